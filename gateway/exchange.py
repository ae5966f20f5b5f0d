"""One request on its way through the proxy: what it is, where it goes, what happened so far.

The proxy's steps each take the one :class:`Exchange` (match and decide fill in ``decision``,
``upstream`` and ``head``; forward and relay the counters; record reads it all).

An exchange still running after ``WATCH_DELAY`` gets a watcher that waits for ``http.disconnect``
and cancels it, which closes the upstream connection. Most exchanges finish sooner and never get
one (a task per request costs more than the rest of the gateway's own work).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from gateway.compiler import CompiledUpstream
from gateway.decide import Decision
from gateway.forwarding import RequestHead
from gateway.tracing import TraceContext
from gateway.types import Receive, Scope, Send

#: Exchanges that last longer than this get a task watching for the client's disconnect.
WATCH_DELAY = 0.05


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


class Exchange:
    """Mutable per-request bookkeeping (one object, slots, no dict)."""

    __slots__ = (
        "begun",
        "bytes_in",
        "bytes_out",
        "client_gone",
        "copy",
        "decision",
        "error",
        "fell_back_from",
        "finished",
        "forward_path",
        "head",
        "reached",
        "receive",
        "request_id",
        "response_headers",
        "scope",
        "send",
        "started",
        "status",
        "task",
        "timer",
        "too_large",
        "trace",
        "ttfb",
        "upstream",
        "watcher",
    )

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, request_id: str, trace: TraceContext, begun: float
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.request_id = request_id
        #: The request's W3C trace context (continued from the client's ``traceparent`` or started).
        self.trace = trace
        #: ``time.perf_counter()`` when the request arrived.
        self.begun = begun
        self.decision: Decision | None = None
        self.upstream: CompiledUpstream | None = None
        self.head: RequestHead | None = None
        self.status = 500
        #: The error kind for logs and metrics (``bad_request``, ``upstream_timeout``...), if any.
        self.error: str | None = None
        self.forward_path = b"/"
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[Any] | None = None
        self.reached = True
        #: The answer's first message went to the client: nothing can be retried any more.
        self.started = False
        self.copy: list[bytes] | None = None
        self.fell_back_from: str | None = None
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.bytes_in = 0
        self.bytes_out = 0
        self.client_gone = False
        self.finished = False
        self.too_large = False
        self.ttfb: float | None = None
        self.watcher: asyncio.Task[None] | None = None

    def finish(self) -> None:
        """Stop watching for a disconnect: the server reports one once the response is complete."""
        self.finished = True
        if self.timer is not None:
            self.timer.cancel()
        if self.watcher is not None:
            self.watcher.cancel()

    def watch(self) -> None:
        """Start watching for the client going away, after ``WATCH_DELAY``."""
        if self.finished or self.timer is not None:
            return
        task = self.task  # not current_task(): the request body may be read by a writer task
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(WATCH_DELAY, _start_watcher, loop, self.receive, self, task)

    async def request_body(self, limit: int | None) -> AsyncIterator[bytes]:
        """The client's body as it arrives, counted and capped at ``limit`` bytes."""
        receive = self.receive
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.client_gone = True
                raise ClientGone
            body: bytes = message.get("body", b"")
            if body:
                self.bytes_in += len(body)
                if limit is not None and self.bytes_in > limit:
                    self.too_large = True
                    raise BodyTooLarge
                yield body
            if not message.get("more_body", False):
                break
        self.watch()


def _start_watcher(
    loop: asyncio.AbstractEventLoop, receive: Receive, exchange: Exchange, task: asyncio.Task[Any] | None
) -> None:
    if exchange.finished:
        return

    async def wait_for_disconnect() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if exchange.finished:
                    return
                exchange.client_gone = True
                if task is not None:
                    task.cancel()
                return

    exchange.watcher = loop.create_task(wait_for_disconnect())
