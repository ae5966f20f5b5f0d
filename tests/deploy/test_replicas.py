"""Several gateway replicas behind a load balancer share guard pins through Redis.

Two `python -m gateway serve` processes (the second with two workers) and one redis-server: a
route pinned back to legacy through one replica's admin API is honoured by every worker of the
other, and released the same way. Everything else a replica decides is per process by design
(canary buckets are hashes of the client), so nothing else needs sharing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.redis import redis_server
from tests.support.servers import RunningServer, free_port, python_module, subprocess_server, uvicorn_thread

TOKEN = "replica-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def side(name: str) -> Starlette:
    async def items(request: Request) -> JSONResponse:
        return JSONResponse({"side": name}, headers={"x-side": name})

    return Starlette(routes=[Route("/api/items", items)])


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
        "      - {from: '2020-01-06T00:00:00', mode: live}\n"
    )


@contextlib.contextmanager
def replica(routing: Path, redis_url: str, state: Path, workers: int) -> Iterator[RunningServer]:
    port = free_port()
    env = {
        "REDIS_URL": redis_url,
        "GATEWAY_ADMIN_TOKEN": TOKEN,
        "GATEWAY_STATE_DIR": str(state),
        "GATEWAY_WATCH": "false",
        "GATEWAY_LOG_FORMAT": "json",
        "GATEWAY_ACCESS_LOG": "false",
    }
    args = python_module(
        "gateway", "serve", "--config", str(routing), "--port", str(port), "--workers", str(workers)
    )
    with subprocess_server(args, port=port, env=env) as (server, _proc):
        yield server


def sides_seen(url: str, count: int = 24) -> set[str]:
    # A new connection per request, so the kernel spreads them over the replica's workers.
    return {httpx.get(f"{url}/api/items", timeout=10).headers["x-side"] for _ in range(count)}


def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_pin_made_on_one_replica_is_honoured_by_every_worker_of_the_other(tmp_path: Path) -> None:
    with (
        redis_server(tmp_path / "redis") as redis_url,
        uvicorn_thread(side("legacy")) as legacy,
        uvicorn_thread(side("services")) as services,
    ):
        routing = tmp_path / "routing.yaml"
        routing.write_text(table(legacy.url, services.url))
        with (
            replica(routing, redis_url, tmp_path / "a", workers=1) as one,
            replica(routing, redis_url, tmp_path / "b", workers=2) as two,
        ):
            assert sides_seen(one.url) == {"services"}
            assert sides_seen(two.url) == {"services"}

            pinned = httpx.post(
                f"{one.url}/_gateway/api/routes/items/pin", headers=ADMIN, json={"reason": "bad deploy"}
            )
            assert pinned.status_code == 200
            assert pinned.json()["pinned"]["by"] == "operator"
            assert sides_seen(one.url) == {"legacy"}
            eventually(lambda: sides_seen(two.url) == {"legacy"}, "replica two to honour the pin")
            # Every worker of replica two keeps honouring it.
            assert sides_seen(two.url, count=40) == {"legacy"}
            # Pins kept in Redis, not in the replicas' state directories.
            assert not (tmp_path / "a" / "pins.json").exists()

            released = httpx.post(f"{two.url}/_gateway/api/routes/items/release", headers=ADMIN)
            assert released.json() == {"route": "items", "released": True}
            eventually(lambda: sides_seen(one.url) == {"services"}, "replica one to see the release")
            eventually(lambda: sides_seen(two.url, count=40) == {"services"}, "every worker of two")
