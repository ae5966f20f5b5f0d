"""Two real gateway processes sharing one Redis enforce one budget, exactly."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import RunningServer, free_port, python_module, subprocess_server, uvicorn_thread

LIMIT = 20
BURST = 64


async def _upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _routing(upstream: str) -> str:
    return f"""
version: 1
upstreams:
  legacy: {{url: "{upstream}"}}
default: legacy
routes:
  - id: login
    path: /auth/login
    methods: [POST]
    to: legacy
    rate_limit: {{limit: {LIMIT}, window: 1h, key: address}}
"""


@contextlib.contextmanager
def _gateways(tmp_path: Path, redis_url: str, prefix: str) -> Iterator[list[RunningServer]]:
    with uvicorn_thread(_upstream) as upstream, contextlib.ExitStack() as stack:
        routing = tmp_path / "routing.yaml"
        routing.write_text(_routing(upstream.url))
        servers = []
        for index in range(2):
            port = free_port()
            env = {
                "GATEWAY_ROUTING_FILE": str(routing),
                "GATEWAY_WATCH": "false",
                "GATEWAY_ACCESS_LOG": "false",
                "GATEWAY_LOG_LEVEL": "warning",
                "GATEWAY_REDIS_URL": redis_url,
                "GATEWAY_RATE_LIMIT_PREFIX": prefix,
                # a loaded test machine must not make Redis look down (each process would count alone)
                "GATEWAY_RATE_LIMIT_TIMEOUT": "5",
                "GATEWAY_STATE_DIR": str(tmp_path / f"state{index}"),
            }
            args = python_module("gateway", "serve", "--port", str(port))
            server, _proc = stack.enter_context(subprocess_server(args, port=port, env=env))
            servers.append(server)
        yield servers


def _post(url: str) -> httpx.Response:
    with httpx.Client(timeout=30) as client:
        return client.post(url + "/auth/login", json={"username": "a", "password": "b"})


@pytest.mark.slow
def test_a_burst_across_two_gateways_is_refused_exactly_at_the_shared_limit(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    with _gateways(tmp_path, redis_url, key_prefix) as servers:
        urls = [servers[i % 2].url for i in range(BURST)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(_post, urls))
        statuses = [answer.status_code for answer in answers]
        odd = [(a.status_code, a.headers, a.text) for a in answers if a.status_code not in (200, 429)]
        assert not odd
        assert statuses.count(200) == LIMIT
        assert statuses.count(429) == BURST - LIMIT
        # Both processes admitted some: the budget really was shared, not one process's alone.
        admitted_by = {url for url, answer in zip(urls, answers, strict=True) if answer.status_code == 200}
        assert len(admitted_by) == 2
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert refused.headers["ratelimit-policy"] == f'"login";q={LIMIT};w=3600'
        # One interval (3600 s / LIMIT) minus the moments the burst took: the next request's slot.
        wait = int(refused.headers["retry-after"])
        assert 3600 / LIMIT - 30 <= wait <= 3600 / LIMIT
        assert refused.headers["ratelimit"] == f'"login";r=0;t={wait}'
        assert refused.headers["x-gateway-route"] == "login"
        assert refused.json()["error"]["code"] == "rate_limited"
        counted = 0.0
        for server in servers:
            metrics = httpx.get(server.url + "/_gateway/metrics", timeout=10).text
            for line in metrics.splitlines():
                if line.startswith("figway_ratelimit_decisions_total{") and 'outcome="refused"' in line:
                    counted += float(line.rsplit(" ", 1)[1])
            assert "figway_ratelimit_shared 1.0" in metrics
        assert counted == BURST - LIMIT
