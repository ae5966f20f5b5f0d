"""An upstream that answers before the request body is sent whole gets no second request on that
connection: the rest of the body would be read as the next request (uvicorn: 400 Invalid HTTP
request), and the next request as the rest of the body."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from gateway.loader import parse_table
from gateway.transport.http1 import Http1Pool


async def test_a_connection_answered_before_its_body_was_sent_is_never_reused() -> None:
    connections: list[bytearray] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen = bytearray()
        connections.append(seen)
        seen += await reader.readuntil(b"\r\n\r\n")
        # Answer at once (the app did not read the body), the answer's body a moment later: the
        # message completes after the client has already looked at the headers.
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(b"ok")
        await writer.drain()
        while chunk := await reader.read(65536):
            seen += chunk
            if b"GET /second" in seen:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    table = parse_table(f"version: 1\nupstreams:\n  a: {{url: 'http://127.0.0.1:{port}'}}\ndefault: a\n")
    pool = Http1Pool(table.upstreams["a"])

    async def slow_body() -> AsyncIterator[bytes]:
        await asyncio.sleep(1.0)  # the client is slow: the answer comes first
        yield b'{"username": "a"}'

    headers = [(b"host", b"a"), (b"content-length", b"17")]
    first = await pool.request("POST", b"/login", headers, slow_body(), chunked=False)
    assert first.status == 200
    assert await first.read() == b"ok"
    first.release()
    second = await pool.request("GET", b"/second", [(b"host", b"a")], None, chunked=False)
    assert second.status == 200
    second.release()
    pool.close()
    server.close()
    assert len(connections) == 2  # a fresh connection for the second request
    assert b"GET /second" not in connections[0]
