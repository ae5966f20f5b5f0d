"""Transport rules at the socket level: no doubled writes, Host is never hop-by-hop, one Host only,
and a mirrored (shadow) request carries the real peer, like every forwarded request, and a mark.

Every test here speaks raw bytes to the gateway or from the upstream, so it pins the behaviour on
the wire, not the code that produces it (these cases failed before the second edition).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.gateway.proxy_support import gateway_server, raw_upstream, table_yaml, upstream_server
from tests.support.servers import RunningServer


def raw_exchange(gateway: RunningServer, request: bytes) -> bytes:
    """Send ``request`` as written and read until the gateway closes (or 10 s)."""
    with socket.create_connection((gateway.host, gateway.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                break
        return b"".join(chunks)


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def _body(response: bytes) -> dict[str, object]:
    data = json.loads(response.partition(b"\r\n\r\n")[2])
    assert isinstance(data, dict)
    return data


class ClosingUpstream:
    """Answers the first request on each connection; reads the second and closes without a word.

    That is what an upstream does when its keep-alive timer fires while a request is on the way:
    the request may or may not have been acted on.
    """

    def __init__(self) -> None:
        self.seen: list[bytes] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.seen.append(head.split(b"\r\n", 1)[0])
                if answered:
                    writer.close()  # a request arrived on a kept-alive connection: gone, no answer
                    return
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
                await writer.drain()
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            return


def _through_closing_upstream(
    tmp_path: Path, second: str, upstream_client: str = "native"
) -> tuple[ClosingUpstream, httpx.Response]:
    upstream = ClosingUpstream()
    with raw_upstream(upstream) as port:
        text = table_yaml({"legacy": f"{{url: 'http://127.0.0.1:{port}'}}"})
        with (
            gateway_server(tmp_path, text, upstream_client=upstream_client) as (gateway, _),
            httpx.Client(base_url=gateway.url, timeout=10) as client,
        ):
            assert client.get("/warm").status_code == 200  # leaves one idle pooled connection
            response = client.request(second, "/api/metadata-enrichment/enrich/1")
    return upstream, response


@pytest.mark.parametrize("client", ["native", "aiohttp"])
def test_body_less_post_on_a_closed_kept_alive_connection_is_not_sent_twice(
    tmp_path: Path, client: str
) -> None:
    upstream, response = _through_closing_upstream(tmp_path, "POST", client)
    posts = [line for line in upstream.seen if line.startswith(b"POST ")]
    assert posts == [b"POST /api/metadata-enrichment/enrich/1 HTTP/1.1"]  # once, never resent
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_gateway"


def test_idempotent_get_on_a_closed_kept_alive_connection_is_retried_once(tmp_path: Path) -> None:
    upstream, response = _through_closing_upstream(tmp_path, "GET")
    gets = [line for line in upstream.seen if line.startswith(b"GET /api/")]
    assert len(gets) == 2  # RFC 9110 9.2.2: an idempotent request may be sent again
    assert response.status_code == 200 and response.text == "ok"


def test_connection_header_naming_host_keeps_host_and_x_forwarded_host(tmp_path: Path) -> None:
    with upstream_server() as (up, state):  # noqa: SIM117
        with gateway_server(tmp_path, table_yaml({"legacy": f"{{url: '{up.url}'}}"})) as (gateway, _):
            response = raw_exchange(
                gateway,
                b"GET /echo HTTP/1.1\r\nHost: videos.example\r\nConnection: close, host\r\n\r\n",
            )
    assert _status(response) == 200
    seen = {name: value for name, value in state.requests[0]["headers"]}
    assert seen["host"] == "videos.example"
    assert seen["x-forwarded-host"] == "videos.example"


def test_two_host_headers_are_a_400_and_never_forwarded(tmp_path: Path) -> None:
    with upstream_server() as (up, state):  # noqa: SIM117
        with gateway_server(tmp_path, table_yaml({"legacy": f"{{url: '{up.url}'}}"})) as (gateway, _):
            response = raw_exchange(
                gateway,
                b"GET /echo HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n",
            )
    assert _status(response) == 400
    assert _body(response)["error"] == {
        "code": "bad_request",
        "message": "a request may carry one Host header",
        "request_id": _body(response)["error"]["request_id"],  # type: ignore[index]
    }
    assert state.requests == []


SHADOW_ROUTE = """
  - id: items
    path: /items
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: shadow}
"""


def test_shadow_copy_carries_the_real_peer_not_the_clients_forwarded_headers(tmp_path: Path) -> None:
    spoofed = (
        b"GET /items HTTP/1.1\r\nHost: gw.example\r\nX-Forwarded-For: 203.0.113.66\r\n"
        b"X-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: gopher\r\nX-Figway-Shadow: 0\r\n"
        b"X-Request-ID: mirror-1\r\nConnection: close\r\n\r\n"
    )
    with upstream_server("legacy") as (legacy, legacy_state), upstream_server("services") as (svc, svc_state):
        text = table_yaml(
            {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{svc.url}'}}"}, SHADOW_ROUTE
        )
        with gateway_server(tmp_path, text) as (gateway, _):
            assert _status(raw_exchange(gateway, spoofed)) == 200
            deadline = time.monotonic() + 10
            while not svc_state.requests and time.monotonic() < deadline:
                time.sleep(0.02)
    forwarded = {name: value for name, value in legacy_state.requests[0]["headers"]}
    mirrored = [(name, value) for name, value in svc_state.requests[0]["headers"]]
    mirror = dict(mirrored)
    for headers in (forwarded, mirror):
        assert headers["x-forwarded-for"] == "127.0.0.1"
        assert headers["x-forwarded-host"] == "gw.example"
        assert headers["x-forwarded-proto"] == "http"
        assert headers["x-request-id"] == "mirror-1"
    assert "x-figway-shadow" not in forwarded  # a client cannot mark its own request as a mirror
    assert [v for n, v in mirrored if n == "x-figway-shadow"] == ["1"]
