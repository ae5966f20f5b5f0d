"""One Server header whichever side answered (gateway.server_header), unit and over real sockets."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from gateway.server_header import ServerHeader
from gateway.settings import GatewaySettings
from tests.gateway.proxy_support import gateway_server, raw_upstream, table_yaml, upstream_server


def _answer(
    headers: list[tuple[bytes, bytes]], header: ServerHeader, *, from_legacy: bool
) -> list[tuple[bytes, bytes]]:
    out = list(headers)
    header.apply(out, from_legacy=from_legacy)
    return out


def test_learned_from_legacy_and_written_on_target_answers() -> None:
    header = ServerHeader(None)
    target = [(b"content-type", b"application/json"), (b"server", b"uvicorn")]
    assert _answer(target, header, from_legacy=False) == [(b"content-type", b"application/json")]
    legacy = [(b"server", b"gunicorn"), (b"content-length", b"2")]
    assert _answer(legacy, header, from_legacy=True) == legacy  # legacy's own answer is untouched
    assert _answer(target, header, from_legacy=False) == [
        (b"content-type", b"application/json"),
        (b"server", b"gunicorn"),
    ]
    assert header.value == b"gunicorn"


def test_a_target_answer_without_server_gets_legacy_value() -> None:
    header = ServerHeader(None)
    header.apply([(b"server", b"gunicorn")], from_legacy=True)
    assert _answer([(b"content-length", b"0")], header, from_legacy=False)[-1] == (b"server", b"gunicorn")


def test_configured_value_replaces_every_answer_and_empty_removes_it() -> None:
    fixed = ServerHeader("figway")
    assert _answer([(b"server", b"gunicorn")], fixed, from_legacy=True) == [(b"server", b"figway")]
    assert _answer([(b"server", b"uvicorn")], fixed, from_legacy=False) == [(b"server", b"figway")]
    none = ServerHeader("")
    assert _answer([(b"server", b"gunicorn"), (b"x", b"1")], none, from_legacy=True) == [(b"x", b"1")]
    assert _answer([(b"server", b"uvicorn")], none, from_legacy=False) == []


@pytest.mark.parametrize("value", ["bad\r\nInjected: 1", "caf\u00e9"])
def test_server_header_setting_refuses_what_cannot_be_a_header_value(value: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="server_header"):
        GatewaySettings(routing_file=tmp_path / "r.yaml", server_header=value)


def test_route_headers_default_off_in_production_on_in_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routing = tmp_path / "r.yaml"
    assert GatewaySettings(routing_file=routing).route_headers is True
    monkeypatch.setenv("FIGWAY_ENV", "production")
    monkeypatch.setenv("GATEWAY_ADMIN_TOKEN", "t0k3n-with-enough-randomness-0123456789abcdefXYZ")
    assert GatewaySettings(routing_file=routing).route_headers is False
    assert GatewaySettings(routing_file=routing, route_headers=True).route_headers is True


async def _gunicorn_like(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nServer: gunicorn\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        return


ROUTES = """
  - id: migrated
    path: /api/migrated
    to: services
"""


@pytest.mark.parametrize("client", ["native", "aiohttp"])
def test_both_sides_answer_with_legacy_server_header_through_the_gateway(tmp_path: Path, client: str) -> None:
    with raw_upstream(_gunicorn_like) as port, upstream_server("services") as (svc, _):
        text = table_yaml(
            {"legacy": f"{{url: 'http://127.0.0.1:{port}'}}", "services": f"{{url: '{svc.url}'}}"}, ROUTES
        )
        with (
            gateway_server(tmp_path, text, upstream_client=client) as (gateway, _),
            httpx.Client(base_url=gateway.url, timeout=10) as http,
        ):
            before = http.get("/api/migrated")  # nothing learned yet: uvicorn's value is dropped
            legacy = http.get("/anything")
            target = http.get("/api/migrated")
            refused = http.get("/api/%2fmigrated")  # the gateway's own answer carries it too
    assert before.headers["x-gateway-upstream"] == "services"
    assert "server" not in before.headers
    assert legacy.headers["server"] == "gunicorn"
    assert target.headers["x-gateway-upstream"] == "services"
    assert target.headers.get_list("server") == ["gunicorn"]
    assert refused.status_code == 400
    assert refused.headers["server"] == "gunicorn"
