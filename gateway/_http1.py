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
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import httptools

from gateway.compiler import CompiledUpstream
from gateway.errors import UpstreamConnectError, UpstreamError, UpstreamProtocolError, UpstreamTimeout

#: Pause reading from the upstream while this much response body waits for the client.
HIGH_WATER = 256 * 1024
_NO_BODY_STATUS = frozenset({204, 304})


class _Closed(Exception):
    """The connection closed; ``seen_bytes`` says whether any of the answer had arrived."""

    def __init__(self, seen_bytes: bool) -> None:
        self.seen_bytes = seen_bytes


class Connection(asyncio.Protocol):
    """One upstream TCP connection carrying one exchange at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.reused = False
        self._parser = httptools.HttpResponseParser(self)
        self._reset()
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None

    def _reset(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.status = 0
        self.head_request = False
        self.complete = False
        self.keep_alive = False
        self.seen_bytes = False
        self._headers_waiter: asyncio.Future[None] | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._body_waiter: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._interim = False
        self._eof_delimited = False

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.seen_bytes = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(UpstreamProtocolError("the upstream switched protocols on a plain request"))
        except httptools.HttpParserError as exc:
            self._fail(UpstreamProtocolError(f"unparsable answer from the upstream: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.complete and self.status and self._eof_delimited and exc is None:
            # No Content-Length, not chunked: the end of the connection is the end of the body.
            self.complete = True
            _resolve(self._body_waiter)
        elif not self.complete:
            self._fail(_Closed(self.seen_bytes))
        self._wake_drain()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drain()

    # -- httptools callbacks -------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            # An interim answer (100 Continue, 103 Early Hints): the real one follows.
            self._interim = True
            self.headers = []
            return
        self.status = status
        framed = any(
            name.lower() in (b"content-length", b"transfer-encoding") for name, _value in self.headers
        )
        self._eof_delimited = not framed
        if self.head_request or status in _NO_BODY_STATUS:
            # llhttp cannot know a HEAD answer has no body: end the exchange here and never
            # reuse the connection (a stray body would be read as the next answer).
            self.complete = True
            self.keep_alive = status in _NO_BODY_STATUS and self._parser.should_keep_alive()
        _resolve(self._headers_waiter)

    def on_body(self, body: bytes) -> None:
        if self.complete:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
        _resolve(self._body_waiter)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if not self.complete:
            self.complete = True
            self.keep_alive = self._parser.should_keep_alive()
        _resolve(self._headers_waiter)
        _resolve(self._body_waiter)

    # -- exchange ------------------------------------------------------------------------------

    def _fail(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        for waiter in (self._headers_waiter, self._body_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_exception(error)

    def _wake_drain(self) -> None:
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def drain(self, idle: float) -> None:
        """Wait until the upstream takes more of the request body, at most ``idle`` seconds."""
        if self.closed:
            raise _Closed(self.seen_bytes)
        if self._write_paused:
            self._drain_waiter = waiter = self.loop.create_future()
            timer = self.loop.call_later(idle, self._write_timed_out, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._drain_waiter = None
            if self.closed:
                raise _Closed(self.seen_bytes)

    def _write_timed_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(UpstreamTimeout("the upstream stopped reading the request body"))

    def write(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            raise _Closed(self.seen_bytes)
        self.transport.write(data)

    async def read_headers(self, idle: float) -> None:
        if self._error is not None:
            raise self._error
        if self.status:
            return
        self._headers_waiter = waiter = self.loop.create_future()
        timer = self.loop.call_later(idle, self._time_out, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._headers_waiter = None

    def _time_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(UpstreamTimeout("the upstream did not answer in time"))

    async def read_chunk(self, idle: float) -> bytes:
        """The next piece of the response body, or ``b""`` at its end."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._buffered <= HIGH_WATER // 2 and self.transport is not None and not self.closed:
                    self.transport.resume_reading()
                return chunk
            if self.complete:
                return b""
            if self._error is not None:
                raise self._error
            self._body_waiter = waiter = self.loop.create_future()
            timer = self.loop.call_later(idle, self._time_out, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._body_waiter = None

    def writer_done(self, writer: asyncio.Task[None]) -> None:
        """A request body that fails (client gone, too large) ends the exchange: nothing will answer it."""
        if writer.cancelled():
            return
        exc = writer.exception()
        if exc is not None and not isinstance(exc, _Closed) and not self.status:
            if isinstance(exc, UpstreamError):
                self._fail(exc)
            else:
                error = UpstreamProtocolError("the request body could not be sent")
                error.__cause__ = exc
                self._fail(error)
            self.close()

    def begin(self, head_request: bool) -> None:
        self._reset()
        self.head_request = head_request

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _resolve(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class Response:
    """The answer of one exchange; shaped like the parts of aiohttp's response the proxy uses."""

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

    @property
    def content(self) -> Response:
        return self

    async def readany(self) -> bytes:
        try:
            return await self._conn.read_chunk(self._timeout)
        except _Closed:
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
            self._pool.release(conn, conn.complete and conn.keep_alive and not conn.closed)


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
            except _Closed as exc:
                self._drop(conn)
                if writer is not None:
                    writer.cancel()
                # A kept-alive connection the upstream closed before answering: it never saw a
                # body-less request, so trying once more on a fresh connection is safe.
                if attempt == 1 and conn.reused and not exc.seen_bytes and body is None:
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
                conn.keep_alive = False
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
