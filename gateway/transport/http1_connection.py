"""One kept-alive HTTP/1.1 connection to an upstream: an asyncio protocol over httptools' parser.

It writes the request bytes as given, parses the answer with llhttp and hands body chunks over as
they arrive, with flow control both ways. :mod:`gateway.transport.http1` pools these.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
from typing import cast

import httptools

from gateway.errors import UpstreamError, UpstreamProtocolError, UpstreamTimeout

#: Pause reading from the upstream while this much response body waits for the client.
HIGH_WATER = 256 * 1024
_NO_BODY_STATUS = frozenset({204, 304})


class Closed(Exception):
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
        #: Set when the request was not sent whole (the upstream answered first): the rest of its
        #: body would be read as the next request, so the connection is never reused. Kept apart
        #: from ``keep_alive``, which the answer's own completion sets.
        self.request_cut = False
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
            self._fail(Closed(self.seen_bytes))
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
            raise Closed(self.seen_bytes)
        if self._write_paused:
            self._drain_waiter = waiter = self.loop.create_future()
            timer = self.loop.call_later(idle, self._write_timed_out, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._drain_waiter = None
            if self.closed:
                raise Closed(self.seen_bytes)

    def _write_timed_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(UpstreamTimeout("the upstream stopped reading the request body"))

    def write(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            raise Closed(self.seen_bytes)
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
        if exc is not None and not isinstance(exc, Closed) and not self.status:
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
