"""The per-request observers (copy, answered), and what they see of a fallback.

Hooks observe; the fallback rule itself is the route's (``fallback:``) and gateway.fallback's."""

from __future__ import annotations

from pathlib import Path

import httpx

from gateway.app import Gateway
from gateway.decide import Decision
from gateway.hooks import Answer, ExchangeHooks
from gateway.settings import GatewaySettings
from tests.gateway.proxy_support import table_yaml, upstream_server
from tests.support.servers import free_port, uvicorn_thread


class Recorder(ExchangeHooks):
    def __init__(self, copy: bool = False) -> None:
        self.copy = copy
        self.answers: list[Answer] = []

    def wants_copy(self, decision: Decision) -> bool:
        return self.copy

    def answered(self, answer: Answer) -> None:
        self.answers.append(answer)


def serve(tmp_path: Path, text: str, hooks: ExchangeHooks) -> tuple[Gateway, Path]:
    routing = tmp_path / "routing.yaml"
    routing.write_text(text)
    return Gateway(GatewaySettings(routing_file=routing, watch=False), hooks=hooks), routing


ROUTE = "  - id: moved\n    path: /{rest:path}\n    to: services\n    fallback: legacy\n"


def test_unreached_target_is_retried_on_fallback_for_any_method(tmp_path: Path) -> None:
    hooks = Recorder()
    with upstream_server("legacy") as (legacy, state):
        text = table_yaml(
            {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: 'http://127.0.0.1:{free_port()}'}}"},
            ROUTE,
        )
        app, _ = serve(tmp_path, text, hooks)
        with uvicorn_thread(app) as gateway:
            response = httpx.post(f"{gateway.url}/write", content=b"once")
    assert response.status_code == 200
    assert response.headers["x-gateway-upstream"] == "legacy"
    assert [r["body_bytes"] for r in state.requests] == [4]
    assert hooks.answers[0].reached is True  # legacy, the fallback, answered
    assert hooks.answers[0].fell_back_from == "services"
    assert hooks.answers[0].decision.upstream == "legacy"


def test_safe_request_answered_5xx_is_retried_on_fallback(tmp_path: Path) -> None:
    hooks = Recorder()
    with upstream_server("legacy") as (legacy, _), upstream_server("services") as (services, svc_state):
        text = table_yaml(
            {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}, ROUTE
        )
        app, _ = serve(tmp_path, text, hooks)
        with uvicorn_thread(app) as gateway:
            response = httpx.get(f"{gateway.url}/status?code=503&on=services")
            write = httpx.post(f"{gateway.url}/status?code=503&on=services", content=b"x")
    assert response.status_code == 200
    assert response.headers["x-gateway-upstream"] == "legacy"
    assert (hooks.answers[0].fell_back_from, hooks.answers[0].status) == ("services", 200)
    assert write.status_code == 503  # a write that reached the target is never resent
    assert write.headers["x-gateway-upstream"] == "services"
    assert len(svc_state.requests) == 2


def test_no_fallback_without_a_fallback_upstream(tmp_path: Path) -> None:
    hooks = Recorder()
    text = table_yaml({"legacy": f"{{url: 'http://127.0.0.1:{free_port()}'}}"})
    app, _ = serve(tmp_path, text, hooks)
    with uvicorn_thread(app) as gateway:
        response = httpx.get(f"{gateway.url}/x")
    assert response.status_code == 502
    assert hooks.answers[0].reached is False
    assert hooks.answers[0].error == "upstream_unreachable"


def test_answered_gets_a_copy_of_the_body_when_asked(tmp_path: Path) -> None:
    hooks = Recorder(copy=True)
    with upstream_server("legacy") as (legacy, _):
        app, _ = serve(tmp_path, table_yaml({"legacy": f"{{url: '{legacy.url}'}}"}), hooks)
        with uvicorn_thread(app) as gateway:
            small = httpx.get(f"{gateway.url}/echo?q=1", headers={"X-Request-ID": "copy-1"})
            big = httpx.get(f"{gateway.url}/download?n=200000")
            head = httpx.head(f"{gateway.url}/echo")
    first, second, third = hooks.answers
    assert first.body == small.content
    assert first.request_id == "copy-1"
    assert first.forward_path == b"/echo"
    assert (b"content-type", b"application/json") in first.headers
    assert second.body == big.content and len(big.content) == 200000
    assert third.body == b"" and head.status_code == 200


def test_failed_reload_notifies_failure_listeners(tmp_path: Path) -> None:
    import asyncio

    app, routing = serve(tmp_path, table_yaml({"legacy": "{url: 'http://127.0.0.1:9'}"}), ExchangeHooks())
    seen: list[tuple[str, str]] = []
    app.reloader.failure_listeners.append(lambda trigger, error: seen.append((trigger, error)))
    routing.write_text("version: 1\n")
    result = asyncio.run(app.reloader.reload("test"))
    assert result.ok is False
    assert seen and seen[0][0] == "test" and "upstreams" in seen[0][1]
