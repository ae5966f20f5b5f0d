"""The admin API under /_gateway: auth, routes, status, explain, metrics, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.app import Gateway
from gateway.settings import GatewaySettings
from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server
from tests.support.servers import uvicorn_thread

ROUTES = """
  - id: settings
    path: /api/settings/{key}
    methods: [GET, PUT]
    to: services
  - id: videos
    path: /api/videos/
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: shadow}
      - {from: 2999-W01, mode: live}
"""
TEXT = table_yaml(
    {"legacy": "{url: 'http://127.0.0.1:9'}", "services": "{url: 'http://127.0.0.1:9'}"}, ROUTES
)
AUTH = {"Authorization": "Bearer s3cret"}


def make_gateway(tmp_path: Path, token: str | None) -> Gateway:
    routing = tmp_path / "routing.yaml"
    routing.write_text(TEXT)
    return Gateway(GatewaySettings(routing_file=routing, admin_token=token, watch=False))


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_gateway(tmp_path, "s3cret"), client=("10.0.0.5", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        yield http


async def test_healthz_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/_gateway/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_admin_api_requires_the_bearer_token(client: httpx.AsyncClient) -> None:
    missing = await client.get("/_gateway/api/routes")
    wrong = await client.get("/_gateway/api/routes", headers={"Authorization": "Bearer nope"})
    right = await client.get("/_gateway/api/routes", headers=AUTH)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert wrong.status_code == 401
    assert right.status_code == 200


async def test_metrics_require_the_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_gateway/metrics")).status_code == 401
    response = await client.get("/_gateway/metrics", headers=AUTH)
    assert response.status_code == 200
    assert "figway_routes 2.0" in response.text


async def test_without_token_only_loopback_clients_are_served(tmp_path: Path) -> None:
    app = make_gateway(tmp_path, None)
    remote = httpx.ASGITransport(app=app, client=("10.0.0.5", 1234))
    local = httpx.ASGITransport(app=app, client=("127.0.0.1", 1234))
    async with httpx.AsyncClient(transport=remote, base_url="http://gw") as http:
        refused = await http.get("/_gateway/api/status")
    async with httpx.AsyncClient(transport=local, base_url="http://gw") as http:
        allowed = await http.get("/_gateway/api/status")
    assert refused.status_code == 403
    assert allowed.status_code == 200


async def test_routes_list_mode_and_upstream_now(client: httpx.AsyncClient) -> None:
    body = (await client.get("/_gateway/api/routes", headers=AUTH)).json()
    by_id = {route["id"]: route for route in body["routes"]}
    assert body["default"] == "legacy"
    assert by_id["settings"]["mode"] == "live"
    assert by_id["settings"]["upstream"] == "services"
    assert by_id["videos"]["mode"] == "shadow"
    assert by_id["videos"]["upstream"] == "legacy"
    assert by_id["videos"]["next_flip"].startswith("2998-12-")  # 2999-W01 starts on a Monday in December 2998


async def test_status_reports_table_and_last_reload(client: httpx.AsyncClient) -> None:
    status = (await client.get("/_gateway/api/status", headers=AUTH)).json()
    assert status["table"]["routes"] == 2
    assert len(status["table"]["sha256"]) == 64
    assert status["last_reload"] is None
    reload = await client.post("/_gateway/api/reload", headers=AUTH)
    assert reload.status_code == 200
    assert (await client.post("/_gateway/reload", headers=AUTH)).status_code == 200  # DESIGN.md's spelling
    assert reload.json()["changed"] is False
    status = (await client.get("/_gateway/api/status", headers=AUTH)).json()
    assert status["last_reload"]["ok"] is True
    assert status["last_reload"]["trigger"] == "api"


async def test_failed_reload_answers_422_with_every_error(client: httpx.AsyncClient, tmp_path: Path) -> None:
    (tmp_path / "routing.yaml").write_text(TEXT.replace("to: services", "to: nowhere"))
    response = await client.post("/_gateway/api/reload", headers=AUTH)
    assert response.status_code == 422
    assert any("unknown upstream 'nowhere'" in error for error in response.json()["errors"])


async def test_explain_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/_gateway/api/explain", params={"method": "get", "path": "/api/settings/theme"}, headers=AUTH
    )
    body = response.json()
    assert body["route"] == "settings"
    assert body["upstream"] == "services"
    future = await client.get(
        "/_gateway/api/explain",
        params={"method": "GET", "path": "/api/videos/", "at": "2999-02-01T00:00:00"},
        headers=AUTH,
    )
    assert future.json()["mode"] == "live"


async def test_openapi_describes_only_the_admin_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/_gateway/openapi.json", headers=AUTH)).json()
    assert spec["paths"]
    assert all(path.startswith("/_gateway/") for path in spec["paths"])


def test_proxy_requests_are_counted_per_route_and_upstream(tmp_path: Path) -> None:
    with upstream_server() as (up, _state):
        text = table_yaml({"legacy": f"{{url: '{up.url}'}}"}, "  - id: r\n    path: /r\n    to: legacy\n")
        with gateway_server(tmp_path, text) as (gateway, _):
            httpx.get(f"{gateway.url}/r")
            httpx.get(f"{gateway.url}/a%2fb")
            metrics = httpx.get(f"{gateway.url}/_gateway/metrics").text
    assert 'figway_requests_total{mode="legacy",route="r",status="200",upstream="legacy"} 1.0' in metrics
    assert 'figway_request_duration_seconds_count{route="r",upstream="legacy"} 1.0' in metrics
    assert 'figway_upstream_errors_total{kind="bad_request",route="-",upstream="-"} 1.0' in metrics


def test_startup_and_shutdown_hooks_and_extra_admin_routes(tmp_path: Path) -> None:
    from fastapi import APIRouter

    app = make_gateway(tmp_path, "s3cret")
    events: list[str] = []

    async def started() -> None:
        events.append("start")

    async def stopped() -> None:
        events.append("stop")

    async def broken() -> None:
        raise RuntimeError("boom")

    router = APIRouter()

    @router.get("/_gateway/api/extra")
    async def extra() -> dict[str, bool]:
        return {"extra": True}

    app.on_startup.append(started)
    app.on_shutdown.extend([broken, stopped])
    app.admin.include_router(router)
    with uvicorn_thread(app) as server:
        response = httpx.get(f"{server.url}/_gateway/api/extra")
    assert response.json() == {"extra": True}
    assert events == ["start", "stop"]


async def test_docs_and_openapi_need_the_token_when_one_is_set(client: httpx.AsyncClient) -> None:
    for path in ("/_gateway/openapi.json", "/_gateway/docs"):
        refused = await client.get(path)
        assert refused.status_code == 401, path
        assert refused.json()["error"]["code"] == "unauthorized"
    docs = await client.get("/_gateway/docs", headers=AUTH)
    assert docs.status_code == 200 and "/_gateway/openapi.json" in docs.text


def test_loopback_only_admin_behind_trusted_proxies_refuses_to_start(tmp_path: Path) -> None:
    import asyncio

    from gateway.admin.access import AdminExposed

    routing = tmp_path / "routing.yaml"
    routing.write_text(TEXT)
    exposed = Gateway(GatewaySettings(routing_file=routing, trusted_proxies="127.0.0.1/32", watch=False))
    with pytest.raises(AdminExposed, match="GATEWAY_ADMIN_TOKEN"):
        asyncio.run(exposed.startup())
    guarded = Gateway(
        GatewaySettings(routing_file=routing, trusted_proxies="127.0.0.1/32", admin_token="t", watch=False)
    )

    async def start_and_stop() -> None:
        await guarded.startup()
        await guarded.shutdown()

    asyncio.run(start_and_stop())
    assert guarded.cutover.started


async def test_dashboard_page_needs_the_token_and_without_it_only_shows_the_token_form(
    client: httpx.AsyncClient,
) -> None:
    refused = await client.get("/_gateway/")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert 'id="token-input"' in refused.text and "sha256" not in refused.text  # the shell, no data
    board = await client.get("/_gateway/api/cutover/board")
    assert board.status_code == 401
    allowed = await client.get("/_gateway/", headers=AUTH)
    assert allowed.status_code == 200 and 'id="token-input"' in allowed.text
