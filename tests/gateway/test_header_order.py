"""gateway.header_order: a target answer's headers come in legacy's order (raw bytes compared)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from gateway.header_order import legacy_order
from tests.gateway.proxy_support import gateway_server, raw_upstream, table_yaml


def test_server_date_content_type_and_length_first_the_rest_in_their_own_order() -> None:
    headers = [
        (b"date", b"D"),
        (b"content-length", b"2"),
        (b"content-type", b"application/json"),
        (b"vary", b"Cookie"),
        (b"set-cookie", b"a=1"),
        (b"server", b"gunicorn"),
        (b"set-cookie", b"b=2"),
    ]
    legacy_order(headers)
    assert [name for name, _ in headers] == [
        b"server",
        b"date",
        b"content-type",
        b"content-length",
        b"vary",
        b"set-cookie",
        b"set-cookie",
    ]
    assert [value for name, value in headers if name == b"set-cookie"] == [b"a=1", b"b=2"]


def _answering(head: bytes) -> object:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(head + b"\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    return handler


GUNICORN = (
    b"HTTP/1.1 200 OK\r\nServer: gunicorn\r\nDate: D\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 2\r\nX-A: 1"
)
UVICORN = (
    b"HTTP/1.1 200 OK\r\ndate: D\r\nserver: uvicorn\r\ncontent-length: 2\r\n"
    b"content-type: text/plain\r\nx-a: 1"
)
ROUTES = """
  - id: migrated
    path: /api/migrated
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: live}
"""


def _head(port: int, path: str) -> list[bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := client.recv(65536):
            reply += chunk
    lines = reply.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    return [line.split(b":", 1)[0] for line in lines if not line.startswith(b"x-request-id")]


def test_a_target_answer_reads_like_a_legacy_one_byte_for_byte(tmp_path: Path) -> None:
    with raw_upstream(_answering(GUNICORN)) as legacy, raw_upstream(_answering(UVICORN)) as services:
        text = table_yaml(
            {
                "legacy": f"{{url: 'http://127.0.0.1:{legacy}'}}",
                "services": f"{{url: 'http://127.0.0.1:{services}'}}",
            },
            ROUTES,
        )
        with gateway_server(tmp_path, text, route_headers=False) as (gateway, _):
            from_legacy = _head(gateway.port, "/anything")  # also teaches the gateway legacy's Server
            from_target = _head(gateway.port, "/api/migrated")
    assert from_legacy == [b"server", b"date", b"content-type", b"content-length", b"x-a", b"connection"]
    assert from_target == from_legacy
