"""Three gateway replicas behind a real nginx, sharing one Redis, give every client the same answer.

As on Kubernetes (three pods behind a Service): three ``python -m gateway serve`` processes, nginx
balancing round-robin over them (each answer names the replica in ``X-Replica``), one
redis-server. The test shows

- canary stickiness: a user stays on one side whichever replica answers;
- guard decisions: the guard trips on one replica, and the pin it makes is honoured by all three;
- rate limits: one client's budget is spent once across the replicas, not once per replica.

nginx comes from apt (``.ci/run`` installs it); without it the test skips, or fails when
``FIGWAY_REQUIRE_NGINX=1`` (CI).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.pins.redis_store import DEFAULT_POLL_INTERVAL
from tests.support.redis import redis_server
from tests.support.servers import RunningServer, free_port, python_module, subprocess_server, uvicorn_thread

TOKEN = "replicas-nginx-admin-token-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
REPLICAS = 3
USERS = 40
#: Requests per user: with round-robin over three replicas, each user meets every replica.
PER_USER = 2 * REPLICAS
GUARD_MIN_REQUESTS = 6
#: Requests per hour for one API key on /api/limited; the test spends it from three replicas.
RATE_LIMIT = 12


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        message = "nginx is not installed (apt-get install nginx)"
        if os.environ.get("FIGWAY_REQUIRE_NGINX") == "1":
            pytest.fail(message + " and FIGWAY_REQUIRE_NGINX=1")
        pytest.skip(message)
    return found


class Side:
    """A stand-in upstream that names itself; the services one can be told to fail."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.failing = threading.Event()

    def app(self) -> Starlette:
        async def items(request: Request) -> JSONResponse:
            if self.failing.is_set():
                return JSONResponse({"error": "boom"}, status_code=500, headers={"x-side": self.name})
            return JSONResponse({"side": self.name}, headers={"x-side": self.name})

        return Starlette(routes=[Route("/api/items", items), Route("/api/limited", items)])


def table(legacy: str, services: str) -> str:
    return (
        "version: 1\n"
        "upstreams:\n"
        f"  legacy: {{url: '{legacy}'}}\n"
        f"  services: {{url: '{services}'}}\n"
        "default: legacy\n"
        "routes:\n"
        "  - id: items\n"
        "    path: /api/items\n"
        "    methods: [GET]\n"
        "    target: services\n"
        "    rollout:\n"
        "      - {from: '2020-01-06T00:00:00', mode: canary, percent: 50}\n"
        f"    guard: {{max_error_rate: 0.1, min_requests: {GUARD_MIN_REQUESTS}, window: 60s}}\n"
        "  - id: limited\n"
        "    path: /api/limited\n"
        "    methods: [GET]\n"
        "    to: legacy\n"
        f"    rate_limit: {{limit: {RATE_LIMIT}, window: 1h, key: api_key}}\n"
    )


@contextlib.contextmanager
def replica(routing: Path, redis_url: str, state: Path, prefix: str) -> Iterator[RunningServer]:
    port = free_port()
    env = {
        "REDIS_URL": redis_url,
        "GATEWAY_RATE_LIMIT_PREFIX": prefix,  # replicas that share budgets share it
        "GATEWAY_ADMIN_TOKEN": TOKEN,
        "GATEWAY_STATE_DIR": str(state),
        "GATEWAY_TRUSTED_PROXIES": "127.0.0.1/32",  # nginx: its X-Forwarded-For is kept
        "GATEWAY_WATCH": "false",
        # The guard, not the circuit breaker, is what this test watches decide.
        "GATEWAY_BREAKER_FAILURES": "1000",
        "GATEWAY_LOG_FORMAT": "json",
        "GATEWAY_ACCESS_LOG": "false",
    }
    args = python_module("gateway", "serve", "--config", str(routing), "--port", str(port))
    with subprocess_server(args, port=port, env=env) as (server, _proc):
        yield server


def nginx_conf(directory: Path, port: int, replicas: list[int]) -> Path:
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in replicas)
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    upstream gateways {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://gateways;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_next_upstream off;
            add_header X-Replica $upstream_addr always;
        }}
    }}
}}
"""
    )
    return conf


@contextlib.contextmanager
def nginx(directory: Path, replicas: list[int]) -> Iterator[str]:
    binary = nginx_binary()
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = nginx_conf(directory, port, replicas)
    with subprocess_server([binary, "-p", str(directory), "-c", str(conf)], port=port) as (server, _proc):
        yield server.url


def eventually(check: Callable[[], bool], what: str, timeout: float = 30.0) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def user(index: int) -> dict[str, str]:
    return {"X-API-Key": f"user-{index}"}


def test_three_replicas_behind_nginx_agree_on_canary_sides_guard_pins_and_rate_limits(tmp_path: Path) -> None:
    legacy_side, services_side = Side("legacy"), Side("services")
    with (
        redis_server(tmp_path / "redis") as redis_url,
        uvicorn_thread(legacy_side.app()) as legacy,
        uvicorn_thread(services_side.app()) as services,
    ):
        routing = tmp_path / "routing.yaml"
        routing.write_text(table(legacy.url, services.url))
        with contextlib.ExitStack() as stack:
            prefix = f"figway-test-{uuid.uuid4().hex[:12]}"
            states = [tmp_path / f"state-{n}" for n in range(REPLICAS)]
            replicas = [stack.enter_context(replica(routing, redis_url, state, prefix)) for state in states]
            balancer = stack.enter_context(nginx(tmp_path / "nginx", [r.port for r in replicas]))
            addresses = {f"127.0.0.1:{r.port}" for r in replicas}

            # 1. Canary stickiness: each user meets every replica and always lands on one side.
            sides: dict[int, set[str]] = defaultdict(set)
            answered_by: dict[int, set[str]] = defaultdict(set)
            with httpx.Client(base_url=balancer, timeout=10) as client:
                for _ in range(PER_USER):
                    for index in range(USERS):
                        answer = client.get("/api/items", headers=user(index))
                        assert answer.status_code == 200
                        sides[index].add(answer.headers["x-side"])
                        answered_by[index].add(answer.headers["x-replica"])
            assert all(len(seen) == 1 for seen in sides.values()), dict(sides)
            assert all(seen == addresses for seen in answered_by.values()), dict(answered_by)
            on_target = [index for index, seen in sides.items() if seen == {"services"}]
            on_legacy = [index for index, seen in sides.items() if seen == {"legacy"}]
            assert on_target and on_legacy  # a 50 % canary splits 40 users

            # 2. The guard trips on replica 0 alone: only it sees the target fail (the others get
            # no traffic meanwhile). Failing answers until the guard pins the route there.
            services_side.failing.set()
            first = replicas[0]
            with httpx.Client(base_url=first.url, timeout=10) as client:
                for _attempt in range(500):
                    if client.get("/api/items", headers=user(on_target[0])).headers["x-side"] == "legacy":
                        break
            services_side.failing.clear()
            route = httpx.get(f"{first.url}/_gateway/api/routes", headers=ADMIN, timeout=10).json()
            items = next(r for r in route["routes"] if r["id"] == "items")
            assert items["pinned"] and items["pinned"]["by"] == "guard", items

            # Every replica honours the pin: target-side users now get legacy from each of them.
            def all_pinned() -> bool:
                return all(
                    httpx.get(f"{r.url}/api/items", headers=user(on_target[0]), timeout=10).headers["x-side"]
                    == "legacy"
                    for r in replicas
                )

            waited = eventually(all_pinned, "every replica to honour the guard's pin")
            # Each replica polls the shared pins every DEFAULT_POLL_INTERVAL seconds: within a
            # second by construction (the wait above is printed, not asserted: no timing asserts).
            assert DEFAULT_POLL_INTERVAL < 1.0
            print(f"guard pin honoured by all {REPLICAS} replicas after {waited:.2f} s")
            with httpx.Client(base_url=balancer, timeout=10) as client:
                seen = {
                    (client.get("/api/items", headers=user(index)).headers["x-side"]) for index in on_target
                }
            assert seen == {"legacy"}
            for r in replicas:
                state = httpx.get(f"{r.url}/_gateway/api/routes", headers=ADMIN, timeout=10).json()
                pinned = next(r["pinned"] for r in state["routes"] if r["id"] == "items")
                assert pinned["by"] == "guard", r.url

            # Released on replica 2: everyone is back on their own side, on every replica.
            released = httpx.post(
                f"{replicas[2].url}/_gateway/api/routes/items/release", headers=ADMIN, timeout=10
            )
            assert released.status_code == 200
            eventually(
                lambda: all(
                    httpx.get(f"{r.url}/api/items", headers=user(on_target[0]), timeout=10).headers["x-side"]
                    == "services"
                    for r in replicas
                ),
                "every replica to see the release",
            )
            with httpx.Client(base_url=balancer, timeout=10) as client:
                for index in range(USERS):
                    answer = client.get("/api/items", headers=user(index))
                    assert {answer.headers["x-side"]} == sides[index]

                # 3. One budget across the replicas: 30 requests of one key, round-robin over three
                # replicas (10 each, under the limit of 12 each would a replica count alone).
                spent = [client.get("/api/limited", headers={"X-API-Key": "spender"}) for _ in range(30)]
                other = client.get("/api/limited", headers={"X-API-Key": "saver"})
            statuses = [answer.status_code for answer in spent]
            assert statuses.count(200) == RATE_LIMIT and statuses.count(429) == 30 - RATE_LIMIT, statuses
            assert statuses == [200] * RATE_LIMIT + [429] * (30 - RATE_LIMIT)
            admitted_by = {a.headers["x-replica"] for a in spent if a.status_code == 200}
            refused_by = {a.headers["x-replica"] for a in spent if a.status_code == 429}
            assert admitted_by == refused_by == addresses
            refused = spent[-1]
            assert refused.headers["ratelimit-policy"] == f'"limited";q={RATE_LIMIT};w=3600'
            assert int(refused.headers["retry-after"]) > 0
            assert other.status_code == 200  # another client's budget is its own
