"""The admin API answers every body with a documented status and never lets input poison a read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import Gateway
from gateway.settings import GatewaySettings
from tests.gateway.proxy_support import table_yaml

ROUTES = """
  - id: videos
    path: /api/videos/
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: shadow}
      - {from: 2999-W01, mode: live}
  - id: plain
    path: /api/plain
    to: services
"""
AUTH = {"Authorization": "Bearer s3cret"}
READS = ("/_gateway/api/routes", "/_gateway/api/cutover", "/_gateway/api/cutover/board")
JSON = {"content-type": "application/json", **AUTH}


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    routing = tmp_path / "routing.yaml"
    routing.write_text(
        table_yaml(
            {"legacy": "{url: 'http://127.0.0.1:9'}", "services": "{url: 'http://127.0.0.1:9'}"}, ROUTES
        )
    )
    settings = GatewaySettings(
        routing_file=routing, admin_token="s3cret", watch=False, state_dir=tmp_path / "state", redis_url=None
    )
    gateway = Gateway(settings)
    await gateway.startup()  # the cutover adopts the table's routes at start-up
    yield gateway
    await gateway.shutdown()


@pytest.fixture
async def client(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gateway, client=("10.0.0.5", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        yield http


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert set(error) >= {"code", "message", "request_id"}
    return error


async def _reads_answer(client: httpx.AsyncClient) -> None:
    for path in READS:
        response = await client.get(path, headers=AUTH)
        assert response.status_code == 200, (path, response.text)


async def test_a_pin_reason_that_is_not_unicode_is_refused_and_not_applied(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    response = await client.post(
        "/_gateway/api/routes/videos/pin", content=b'{"reason": "\\udc80"}', headers=JSON
    )
    error = _error(response, 422)
    assert error["details"][0]["loc"] == ["body", "reason"]
    assert gateway.cutover.pins.get("videos") is None
    await _reads_answer(client)


async def test_a_body_that_is_not_an_object_gets_a_422_that_renders(client: httpx.AsyncClient) -> None:
    for body in (b'["\\udc80"]', b'"\\udc80"', b"[1, 2]", b'{"reason": 5}', b'{"why": "x"}', b"{"):
        response = await client.post("/_gateway/api/routes/videos/pin", content=body, headers=JSON)
        error = _error(response, 422)
        assert all(set(detail) == {"loc", "type", "message"} for detail in error["details"])
        assert "\\udc80" not in response.text
    await _reads_answer(client)


async def test_a_body_that_is_not_utf8_is_a_documented_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/_gateway/api/routes/videos/pin", content=b'{"reason": "\xff"}', headers=JSON
    )
    assert _error(response, 400)["code"] == "bad_request"


async def test_a_stored_reason_that_is_not_unicode_never_breaks_a_read(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    # Defence in depth: a pin written by an older version or another replica, not through the API.
    assert await gateway.cutover.pin("videos", "bad \udc80 reason")
    await _reads_answer(client)
    routes = (await client.get("/_gateway/api/routes", headers=AUTH)).json()["routes"]
    assert next(r for r in routes if r["id"] == "videos")["pinned"]["reason"] == "bad \ufffd reason"
    board = await client.get("/_gateway/api/cutover/board", headers=AUTH)
    assert "bad \ufffd reason" in board.text


async def test_pin_answers_200_404_and_409_each_in_the_error_shape(client: httpx.AsyncClient) -> None:
    ok = await client.post("/_gateway/api/routes/videos/pin", json={"reason": "slow é"}, headers=AUTH)
    assert ok.status_code == 200 and ok.json()["pinned"]["reason"] == "slow é"
    assert (await client.post("/_gateway/api/routes/videos/pin", headers=AUTH)).status_code == 200
    _error(await client.post("/_gateway/api/routes/nope/pin", json={}, headers=AUTH), 404)
    _error(await client.post("/_gateway/api/routes/plain/pin", json={}, headers=AUTH), 409)
    _error(
        await client.post("/_gateway/api/routes/videos/pin", json={"reason": "x" * 501}, headers=AUTH), 422
    )


async def test_explain_refuses_a_numeric_instant_and_a_relative_path(client: httpx.AsyncClient) -> None:
    explain = "/_gateway/api/explain"
    for params in (
        {"method": "GET", "path": "/api/videos/", "at": "0.0"},
        {"method": "GET", "path": "/api/videos/", "at": "1733112553"},
        {"method": "GET", "path": "/api/videos/", "at": "next week"},
        {"method": "GET", "path": "/api/videos/", "at": "2026-12-08"},
        {"method": "GET", "path": "/api/videos/", "at": "2026-02-30T12:00:00Z"},
        {"method": "GET", "path": "api/videos/"},
        {"method": "G ET", "path": "/api/videos/"},
    ):
        _error(await client.get(explain, params=params, headers=AUTH), 422)
    unsafe = await client.get(explain, params={"method": "GET", "path": "/a%2Fb/../../c"}, headers=AUTH)
    assert _error(unsafe, 400)["code"] == "bad_request"
    for at in ("2026-W50", "2026-12-08T12:00", "2026-12-08T12:00:00+01:00", "2026-12-08T12:00:00.5Z"):
        answer = await client.get(
            explain, params={"method": "GET", "path": "/api/videos/", "at": at}, headers=AUTH
        )
        assert answer.status_code == 200 and answer.json()["error"] is None, (at, answer.text)


async def test_the_document_states_every_answer(client: httpx.AsyncClient) -> None:
    document = (await client.get("/_gateway/openapi.json", headers=AUTH)).json()
    paths = document["paths"]
    pin = paths["/_gateway/api/routes/{route_id}/pin"]["post"]["responses"]
    assert set(pin) >= {"200", "400", "401", "403", "404", "409", "422"}
    assert pin["422"]["content"]["application/json"]["schema"]["required"] == ["error"]
    assert "WWW-Authenticate" in pin["401"]["headers"]
    metrics = paths["/_gateway/metrics"]["get"]["responses"]["200"]["content"]
    assert list(metrics) == ["text/plain"]
    explain = paths["/_gateway/api/explain"]["get"]["responses"]
    assert set(explain) >= {"200", "400", "401", "403", "422"}
    assert "401" not in paths["/_gateway/healthz"]["get"]["responses"]
    assert document["components"]["securitySchemes"]["AdminToken"] == {"type": "http", "scheme": "bearer"}
