"""Real processes for the flip-evidence tests: two fake upstreams (uvicorn threads) and gateways
(``python -m gateway serve`` subprocesses) on one routing table."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import RunningServer, free_port, python_module, subprocess_server, uvicorn_thread

TOKEN = "gates-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MIN_COMPARED = 12


def _app(name: str, differs: Callable[[str], bool]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        same = {"items": [1, 2, 3], "path": path}
        body = json.dumps({"items": [9], "path": path} if differs(path) else same).encode()
        headers = [(b"content-type", b"application/json"), (b"x-side", name.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def routing(legacy: str, services: str, *, clean_path: str = "/clean") -> str:
    """Two routes whose canary (100 %: deterministic) is dated in the past, behind a shadow phase."""
    routes = ""
    for rid, path in (("clean", clean_path), ("differing", "/differing")):
        routes += f"""
  - id: {rid}
    path: {path}
    methods: [GET]
    target: services
    rollout:
      - {{from: "2020-01-01T00:00:00", mode: shadow}}
      - {{from: "2020-01-02T00:00:00", mode: canary, percent: 100,
          requires: {{shadow: {{min_compared: {MIN_COMPARED}, max_diff_rate: 0}}}}}}
    shadow: {{ignore: [headers.date, headers.server, headers.x-side]}}
"""
    return f"""version: 1
timezone: UTC
upstreams:
  legacy: {{url: "{legacy}"}}
  services: {{url: "{services}"}}
default: legacy
routes:{routes}"""


@contextlib.contextmanager
def upstreams() -> Iterator[tuple[RunningServer, RunningServer]]:
    with (
        uvicorn_thread(_app("legacy", lambda path: False)) as legacy,
        uvicorn_thread(_app("services", lambda path: path.startswith("/differing"))) as services,
    ):
        yield legacy, services


@contextlib.contextmanager
def gateway(routing_file: Path, state_dir: Path, **env: str) -> Iterator[RunningServer]:
    port = free_port()
    full = {
        "GATEWAY_ROUTING_FILE": str(routing_file),
        "GATEWAY_WATCH": "false",
        "GATEWAY_ACCESS_LOG": "false",
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_ADMIN_TOKEN": TOKEN,
        "GATEWAY_STATE_DIR": str(state_dir),
        "GATEWAY_EVIDENCE_INTERVAL": "0.2",
        "GATEWAY_EVIDENCE_SETTLE": "0.8",
        # keys of its own should Redis be configured around the test (the replica test shares them)
        "GATEWAY_STATE_PREFIX": f"figway-gates-test-{uuid.uuid4().hex[:12]}",
        **env,
    }
    args = python_module("gateway", "serve", "--port", str(port))
    with subprocess_server(args, port=port, env=full) as (server, _proc):
        yield server


def explain(base: str, path: str, at: str | None = None) -> dict[str, Any]:
    params = {"method": "GET", "path": path, **({"at": at} if at else {})}
    answer = httpx.get(base + "/_gateway/api/explain", params=params, headers=AUTH, timeout=10)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def upstream_of(base: str, path: str) -> str:
    answer = httpx.get(base + path, timeout=10)
    assert answer.status_code == 200
    return answer.headers["x-gateway-upstream"]


def wait_until(
    check: Callable[[], bool], *, timeout: float = 30.0, poke: Callable[[], None] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if poke is not None:
            poke()
        time.sleep(0.1)
    raise AssertionError("the condition did not hold in time")


def history(base: str) -> list[dict[str, Any]]:
    answer = httpx.get(base + "/_gateway/api/history", headers=AUTH, timeout=10)
    answer.raise_for_status()
    return [change for entry in answer.json()["reloads"] for change in entry["changes"]]
