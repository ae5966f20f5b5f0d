"""A small pooled HTTP/1.1 client for forwarding: asyncio protocol + httptools' response parser.

Why not aiohttp on the hot path: forwarding needs none of its conveniences (cookies, redirects,
decompression, str header maps) and pays for all of them on every request. This client writes the
client's header bytes as they are, parses the answer with llhttp, and hands body chunks to the proxy
as they arrive, with flow control both ways. aiohttp stays the client for WebSockets.

Errors are raised as ``gateway.errors`` exceptions directly: ``UpstreamConnectError`` and a connect
``UpstreamTimeout`` say the request never reached the upstream (``reached = False``).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from typing import Any

from gateway.compiler import CompiledUpstream
from gateway.errors import UpstreamConnectError, UpstreamError, UpstreamProtocolError, UpstreamTimeout
from gateway.transport.base import IDEMPOTENT_METHODS, UpstreamRequest
from gateway.transport.http1_connection import Closed, Connection


class Response:
    """The answer of one exchange (a :class:`~gateway.transport.base.UpstreamResponse`)."""

    __slots__ = ("_conn", "_pool", "_released", "_timeout", "content_length", "raw_headers", "status")

    def __init__(self, conn: Connection, pool: Http1Pool, timeout: float) -> None:
        self._conn = conn
        self._pool = pool
        self._timeout = timeout
        self._released = False
        self.status = conn.status
        self.raw_headers = conn.headers
        self.content_length: int | None = None
        for name, value in conn.headers:
            if len(name) == 14 and name.lower() == b"content-length":
                try:
                    self.content_length = int(value)
                except ValueError:
                    self.content_length = None

    async def readany(self) -> bytes:
        try:
            return await self._conn.read_chunk(self._timeout)
        except Closed:
            raise UpstreamProtocolError("the upstream closed the connection mid-answer") from None

    async def read(self) -> bytes:
        parts = []
        while chunk := await self.readany():
            parts.append(chunk)
        return b"".join(parts)

    def release(self) -> None:
        if not self._released:
            self._released = True
            conn = self._conn
            reusable = conn.complete and conn.keep_alive and not conn.request_cut and not conn.closed
            self._pool.release(conn, reusable)


class Http1Pool:
    """Keep-alive connections to one upstream, at most ``max_connections`` at a time."""

    def __init__(self, upstream: CompiledUpstream) -> None:
        self.upstream = upstream
        self._idle: list[Connection] = []
        self._open = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def _acquire(self) -> Connection:
        now = time.monotonic()
        keepalive = self.upstream.keepalive
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < keepalive:
                conn.reused = True
                return conn
            self._drop(conn)
        if self._open >= self.upstream.max_connections:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, self.upstream.timeouts.pool)
            except TimeoutError:
                raise _not_reached(UpstreamTimeout("no upstream connection became free in time")) from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            return await self._acquire()
        self._open += 1
        try:
            return await self._connect()
        except BaseException:
            self._open -= 1
            self._wake()
            raise

    async def _connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        upstream = self.upstream
        ssl: Any = True if upstream.scheme == "https" else None
        try:
            async with asyncio.timeout(upstream.timeouts.connect):
                _transport, conn = await loop.create_connection(
                    lambda: Connection(loop), upstream.host, upstream.port, ssl=ssl
                )
        except TimeoutError:
            raise _not_reached(UpstreamTimeout("the upstream did not accept a connection in time")) from None
        except OSError as exc:
            raise _not_reached(UpstreamConnectError("the upstream could not be reached")) from exc
        return conn

    def _drop(self, conn: Connection) -> None:
        conn.close()
        self._open -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def release(self, conn: Connection, reusable: bool) -> None:
        if reusable:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
            self._wake()
        else:
            self._drop(conn)

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    async def send(self, request: UpstreamRequest) -> Response:
        return await self.request(
            request.method, request.target, request.headers, request.body, chunked=request.chunked
        )

    async def request(
        self,
        method: str,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: AsyncIterator[bytes] | None,
        *,
        chunked: bool,
    ) -> Response:
        """Send one request and return once the answer's headers are in."""
        head = _head(method, target, headers, chunked)
        read_timeout = self.upstream.timeouts.read
        for attempt in (1, 2):
            conn = await self._acquire()
            conn.begin(method == "HEAD")
            writer: asyncio.Task[None] | None = None
            try:
                conn.write(head)
                if body is not None:
                    writer = asyncio.get_running_loop().create_task(
                        _send_body(conn, body, chunked, self.upstream.timeouts.write)
                    )
                    writer.add_done_callback(conn.writer_done)
                await conn.read_headers(read_timeout)
            except Closed as exc:
                self._drop(conn)
                if writer is not None:
                    writer.cancel()
                # A kept-alive connection closed before answering. The request may have arrived and
                # been acted on before the close (RFC 9110 9.2.2): only an idempotent, body-less
                # request is sent once more, on a fresh connection. A write gets its 502.
                if (
                    attempt == 1
                    and conn.reused
                    and not exc.seen_bytes
                    and body is None
                    and method in IDEMPOTENT_METHODS
                ):
                    continue
                raise UpstreamProtocolError("the upstream closed the connection before answering") from None
            except BaseException:
                self._drop(conn)
                if writer is not None:
                    writer.cancel()
                raise
            if writer is not None and not writer.done():
                # The upstream answered before the whole body was sent: do not reuse the connection.
                writer.cancel()
                conn.request_cut = True
            return Response(conn, self, read_timeout)
        raise AssertionError("unreachable")  # pragma: no cover


async def _send_body(conn: Connection, body: AsyncIterator[bytes], chunked: bool, idle: float) -> None:
    async for chunk in body:
        if not chunk:
            continue
        if chunked:
            conn.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
        else:
            conn.write(chunk)
        await conn.drain(idle)
    if chunked:
        conn.write(b"0\r\n\r\n")


def _head(method: str, target: bytes, headers: list[tuple[bytes, bytes]], chunked: bool) -> bytes:
    lines = [method.encode("latin-1"), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        lines += (name, b": ", value, b"\r\n")
    if chunked:
        lines.append(b"transfer-encoding: chunked\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


def _not_reached(error: UpstreamError) -> UpstreamError:
    error.reached = False
    return error
