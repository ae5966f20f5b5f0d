"""The streaming reverse proxy: a plain ASGI app over the compiled routing table.

Per request: normalise the path, match a route, ask the ``Decider`` where it goes, rewrite headers,
forward with the upstream's pooled client (``gateway._http1``; aiohttp with
``GATEWAY_UPSTREAM_CLIENT=aiohttp``), stream the answer back, then count and log it once. Bodies
are never buffered: the request body is an async generator over ``receive`` and the response body
is relayed chunk by chunk as it arrives. An exchange still running after ``WATCH_DELAY`` gets a
watcher that waits for ``http.disconnect`` and cancels it, which closes the upstream connection.
``ExchangeHooks`` (``gateway.hooks``) can ask for a fallback retry and see every outcome.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import json
import time
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any

import aiohttp
from yarl import URL

from gateway.compiler import CompiledTable, CompiledUpstream
from gateway.config import SAFE_METHODS
from gateway.errors import (
    UpstreamConnectError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
)
from gateway.headers import (
    FORWARDED,
    UPSTREAM_DROP,
    connection_tokens,
    new_request_id,
    response_headers,
    valid_request_id,
)
from gateway.hooks import COPY_LIMIT, Answer, ExchangeHooks
from gateway.metrics import GatewayMetrics
from gateway.paths import UnsafePath, split_path
from gateway.ratelimit import RateLimiter, refusal
from gateway.rollout import Decider, Decision, PhaseDecider
from gateway.settings import GatewaySettings
from gateway.types import Receive, Scope, Send
from gateway.upstreams import UpstreamPool

#: Exchanges that last longer than this get a task watching for the client's disconnect.
WATCH_DELAY = 0.05
#: Responses up to this size (by Content-Length) are read whole and sent in one message.
SMALL_BODY = 64 * 1024
_NO_BODY_STATUS = frozenset({204, 304})


class TableRef:
    """The one mutable reference to the active table; swapping it is a single attribute store."""

    __slots__ = ("table",)

    def __init__(self, table: CompiledTable) -> None:
        self.table = table


class _BodyTooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


class _Retry(Exception):
    """The upstream answered 5xx to a safe request and a hook asked for a retry elsewhere."""

    def __init__(self, upstream: str, error: UpstreamError) -> None:
        self.upstream = upstream
        self.error = error


class _Exchange:
    """Mutable per-request bookkeeping (one object, slots, no dict)."""

    __slots__ = (
        "bytes_in",
        "bytes_out",
        "client_gone",
        "copy",
        "fell_back_from",
        "finished",
        "forward_path",
        "reached",
        "response_headers",
        "started",
        "task",
        "timer",
        "too_large",
        "ttfb",
        "watcher",
    )

    def __init__(self) -> None:
        self.forward_path = b"/"
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[Any] | None = None
        self.reached = True
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


def error_body(code: str, message: str, request_id: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "request_id": request_id}}).encode()


def _translate(exc: BaseException) -> UpstreamError:
    """aiohttp's exceptions, grouped by the status the client gets."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        error: UpstreamError = UpstreamTimeout("the upstream did not accept a connection in time")
        error.reached = False
    elif isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        error = UpstreamTimeout("the upstream did not answer in time")
    elif isinstance(exc, aiohttp.ClientConnectorError):
        error = UpstreamConnectError("the upstream could not be reached")
        error.reached = False
    else:
        error = UpstreamProtocolError("the upstream connection failed")
    error.__cause__ = exc
    return error


class Proxy:
    """ASGI app for everything outside ``/_gateway``: HTTP and WebSocket."""

    def __init__(
        self,
        *,
        tables: TableRef,
        pool: UpstreamPool,
        settings: GatewaySettings,
        metrics: GatewayMetrics,
        logger: Any,
        access_logger: Any = None,
        decider: Decider | None = None,
        hooks: ExchangeHooks | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.tables = tables
        self.limiter = limiter
        self.pool = pool
        self.metrics = metrics
        self.decider: Decider = decider or PhaseDecider()
        self.hooks = hooks
        self._log = logger
        self._access = access_logger if access_logger is not None else logger
        self._access_log = settings.access_log
        self._route_headers = settings.route_headers
        self._max_header_bytes = settings.max_header_bytes
        self._max_body = settings.max_body_bytes
        self._rid_name = settings.request_id_header.lower().encode("latin-1")
        self._rid_str = settings.request_id_header
        self._trusted = settings.trusted_proxies
        self._trusted_cache: dict[str, bool] = {}
        self._native = settings.upstream_client == "native"

    # -- decisions -----------------------------------------------------------------------------

    def decide(self, table: CompiledTable, method: str, parts: list[str], scope: Scope) -> Decision:
        route = table.matcher.match(method, parts)
        if route is None:
            return table.default_decision
        return self.decider.decide(route, table.board.current(route.index), scope)

    def _is_trusted(self, peer: str) -> bool:
        if not self._trusted:
            return False
        known = self._trusted_cache.get(peer)
        if known is None:
            try:
                address = ipaddress.ip_address(peer)
                known = any(address in network for network in self._trusted)
            except ValueError:
                known = False
            if len(self._trusted_cache) < 4096:
                self._trusted_cache[peer] = known
        return known

    def _upstream_headers(
        self, scope: Scope, upstream: CompiledUpstream, request_id: str, websocket: bool = False
    ) -> tuple[list[tuple[bytes, bytes]], int, int | None, bool]:
        """Headers for the upstream, plus header bytes, declared Content-Length and chunked flag."""
        raw: list[tuple[bytes, bytes]] = scope["headers"]
        drop = UPSTREAM_DROP
        size = 0
        chunked = False
        for name, value in raw:
            size += len(name) + len(value) + 4
            if name == b"connection":
                drop = drop | connection_tokens(value)
            elif name == b"transfer-encoding":
                chunked = True
        client = scope.get("client")
        peer: str = client[0] if client else ""
        trusted = self._is_trusted(peer) if peer else False
        out: list[tuple[bytes, bytes]] = []
        host = b""
        forwarded_for = b""
        proto = b""
        fwd_host = b""
        length: int | None = None
        rid_name = self._rid_name
        for name, value in raw:
            if name in drop:
                continue
            if name == b"host":
                host = value
                continue
            if name in FORWARDED:
                if trusted:
                    if name == b"x-forwarded-for":
                        forwarded_for = value
                    elif name == b"x-forwarded-proto":
                        proto = value
                    else:
                        fwd_host = value
                continue
            if name == rid_name:
                continue
            if name == b"content-length":
                if chunked:
                    continue  # both framings sent: chunked wins (RFC 9112 6.3), the length goes
                try:
                    length = int(value)
                except ValueError:
                    length = -1
            elif websocket and name.startswith(b"sec-websocket-"):
                continue
            out.append((name, value))
        if upstream.host_header is not None:
            out.append((b"host", upstream.host_header.encode("latin-1")))
        elif host:
            out.append((b"host", host))
        if peer:
            address = peer.encode("latin-1")
            forwarded_for = forwarded_for + b", " + address if forwarded_for else address
        if forwarded_for:
            out.append((b"x-forwarded-for", forwarded_for))
        out.append((b"x-forwarded-proto", proto or scope.get("scheme", "http").encode("latin-1")))
        if fwd_host or host:
            out.append((b"x-forwarded-host", fwd_host or host))
        out.append((rid_name, request_id.encode("latin-1")))
        return out, size, length, chunked

    def _request_id(self, scope: Scope) -> str:
        rid_name = self._rid_name
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        for name, value in headers:
            if name == rid_name and valid_request_id(value):
                return value.decode("latin-1")
        return new_request_id()

    def _gateway_headers(self, decision: Decision, request_id: str) -> list[tuple[bytes, bytes]]:
        extra = [(self._rid_name, request_id.encode("latin-1"))]
        if self._route_headers:
            extra.append((b"x-gateway-route", decision.route_id.encode("latin-1")))
            extra.append((b"x-gateway-upstream", decision.upstream.encode("latin-1")))
        return extra

    async def _send_error(
        self,
        send: Send,
        status: int,
        code: str,
        message: str,
        request_id: str,
        decision: Decision | None,
        exchange: _Exchange | None = None,
    ) -> int:
        body = error_body(code, message, request_id)
        if exchange is not None:
            _finish(exchange)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # The server's own Date header is off so that upstream answers keep theirs.
            (b"date", formatdate(usegmt=True).encode()),
        ]
        if decision is not None:
            headers.extend(self._gateway_headers(decision, request_id))
        else:
            headers.append((self._rid_name, request_id.encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return len(body)

    # -- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "websocket":
            from gateway.websocket import proxy_websocket

            await proxy_websocket(self, scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        table = self.tables.table
        method: str = scope["method"]
        request_id = self._request_id(scope)
        exchange = _Exchange()
        exchange.task = asyncio.current_task()
        decision: Decision | None = None
        status = 500
        error_kind: str | None = None
        limited = False
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        if b"?" in raw_path:
            raw_path = raw_path.split(b"?", 1)[0]
        try:
            try:
                forward_path, parts = split_path(raw_path, scope["path"])
            except UnsafePath as exc:
                error_kind = "bad_request"
                status = 400
                exchange.bytes_out = await self._send_error(
                    send, 400, "bad_request", str(exc), request_id, None
                )
                return
            exchange.forward_path = forward_path
            decision = self.decide(table, method, parts, scope)
            quotas = table.quotas.get(decision.route_id) if self.limiter is not None else None
            if quotas:
                assert self.limiter is not None
                refused = await self.limiter.check(quotas, scope)
                if refused is not None:
                    # Refused before anything was forwarded: no upstream outcome, no shadow, no guard.
                    limited, status, error_kind = True, 429, "rate_limited"
                    headers, body = refusal(refused.quota, refused.verdict, request_id)
                    headers.extend(self._gateway_headers(decision, request_id))
                    await send({"type": "http.response.start", "status": 429, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    exchange.bytes_out = len(body)
                    return
            upstream = table.upstreams[decision.upstream]
            headers, header_bytes, length, chunked = self._upstream_headers(scope, upstream, request_id)
            if header_bytes > self._max_header_bytes:
                error_kind, status = "bad_request", 431
                exchange.bytes_out = await self._send_error(
                    send, 431, "headers_too_large", "request headers too large", request_id, decision
                )
                return
            if self._max_body is not None and length is not None and length > self._max_body:
                error_kind, status = "bad_request", 413
                exchange.bytes_out = await self._send_error(
                    send, 413, "body_too_large", "request body too large", request_id, decision
                )
                return
            has_body = chunked or (length is not None and length > 0)
            while True:  # a second pass only after a fallback, and never a third
                try:
                    status = await self._forward(
                        scope,
                        receive,
                        send,
                        upstream,
                        method,
                        headers,
                        has_body,
                        chunked,
                        decision,
                        request_id,
                        exchange,
                    )
                    break
                except (UpstreamError, _Retry) as exc:
                    if exchange.fell_back_from is not None:
                        raise  # the fallback upstream failed too
                    alternate = self._fallback_for(exc, decision, method, has_body, exchange)
                    if alternate is None:
                        raise exc.error if isinstance(exc, _Retry) else exc from None
                    exchange.fell_back_from = decision.upstream
                    exchange.reached = True
                    decision = dataclasses.replace(decision, upstream=alternate)
                    upstream = table.upstreams[alternate]
                    headers = self._upstream_headers(scope, upstream, request_id)[0]
        except UpstreamError as exc:
            error_kind = exc.code
            status = exc.status
            exchange.reached = exc.reached
            if exchange.too_large:
                status, error_kind = 413, "bad_request"
                exchange.bytes_out = await self._send_error(
                    send, 413, "body_too_large", "request body too large", request_id, decision, exchange
                )
            elif exchange.client_gone:
                status, error_kind = 499, "client_gone"
            else:
                exchange.bytes_out = await self._send_error(
                    send, exc.status, exc.code, str(exc), request_id, decision, exchange
                )
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not exchange.client_gone or task is None:
                raise
            task.uncancel()
            status, error_kind = 499, "client_gone"
        finally:
            _finish(exchange)
            self._record(scope, decision, status, error_kind, exchange, started, request_id)
            if self.hooks is not None and decision is not None and not limited:
                self._answered(table, scope, decision, status, error_kind, exchange, started, request_id)

    def _fallback_for(
        self,
        exc: UpstreamError | _Retry,
        decision: Decision,
        method: str,
        has_body: bool,
        exchange: _Exchange,
    ) -> str | None:
        """The upstream to retry on, when a hook wants one and a retry cannot send anything twice."""
        hooks = self.hooks
        if hooks is None or exchange.client_gone or exchange.too_large or exchange.started:
            return None
        if isinstance(exc, _Retry):
            return exc.upstream
        if exc.reached and (has_body or method not in SAFE_METHODS):
            return None
        if exc.reached is False and exchange.bytes_in:
            return None  # defensive: the body was already being read
        alternate = hooks.fallback_upstream(decision, method, reached=exc.reached, status=None)
        return alternate if alternate != decision.upstream else None

    def _answered(
        self,
        table: CompiledTable,
        scope: Scope,
        decision: Decision,
        status: int,
        error_kind: str | None,
        exchange: _Exchange,
        started: float,
        request_id: str,
    ) -> None:
        assert self.hooks is not None
        copy = exchange.copy
        answer = Answer(
            table=table,
            decision=decision,
            scope=scope,
            forward_path=exchange.forward_path,
            request_id=request_id,
            status=status,
            headers=tuple(exchange.response_headers),
            body=b"".join(copy) if copy is not None else None,
            latency_s=time.perf_counter() - started,
            reached=exchange.reached,
            fell_back_from=exchange.fell_back_from,
            error=error_kind,
        )
        try:
            self.hooks.answered(answer)
        except Exception:
            self._log.exception("proxy.hook_failed", request_id=request_id)

    def _record(
        self,
        scope: Scope,
        decision: Decision | None,
        status: int,
        error_kind: str | None,
        exchange: _Exchange,
        started: float,
        request_id: str,
    ) -> None:
        total = time.perf_counter() - started
        route = decision.route_id if decision is not None else "-"
        mode = decision.mode if decision is not None else "-"
        upstream = decision.upstream if decision is not None else "-"
        ttfb = None if exchange.ttfb is None else exchange.ttfb - started
        self.metrics.observe(route, mode, upstream, status, total, ttfb)
        if error_kind is not None:
            self.metrics.error(route, upstream, error_kind)
        if self._access_log:
            client = scope.get("client")
            self._access.info(
                "proxy.request",
                request_id=request_id,
                method=scope["method"],
                path=scope["path"],
                route=route,
                mode=mode,
                upstream=upstream,
                status=status,
                bytes_in=exchange.bytes_in,
                bytes_out=exchange.bytes_out,
                upstream_ms=None if ttfb is None else round(ttfb * 1000, 3),
                total_ms=round(total * 1000, 3),
                client=client[0] if client else None,
                error=error_kind,
                # the cutover outcome: which upstream failed before a fallback answered, and whether
                # the request was mirrored to the target for a shadow diff
                fallback_from=exchange.fell_back_from,
                shadow=getattr(decision, "shadow", False),
            )

    def _watch(self, receive: Receive, exchange: _Exchange) -> None:
        """Start watching for the client going away, after ``WATCH_DELAY``.

        Most exchanges finish sooner, and then no watcher task is ever created (a task per request
        costs more than the rest of the gateway's own work). Slow upstreams and long streams get one.
        """
        if exchange.finished or exchange.timer is not None:
            return
        task = exchange.task  # not current_task(): the request body may be read by a writer task
        loop = asyncio.get_running_loop()
        exchange.timer = loop.call_later(WATCH_DELAY, _start_watcher, loop, receive, exchange, task)

    async def _request_body(self, receive: Receive, exchange: _Exchange) -> AsyncIterator[bytes]:
        limit = self._max_body
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                exchange.client_gone = True
                raise _ClientGone
            body: bytes = message.get("body", b"")
            if body:
                exchange.bytes_in += len(body)
                if limit is not None and exchange.bytes_in > limit:
                    exchange.too_large = True
                    raise _BodyTooLarge
                yield body
            if not message.get("more_body", False):
                break
        self._watch(receive, exchange)

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        upstream: CompiledUpstream,
        method: str,
        headers: list[tuple[bytes, bytes]],
        has_body: bool,
        chunked: bool,
        decision: Decision,
        request_id: str,
        exchange: _Exchange,
    ) -> int:
        query: bytes = scope.get("query_string", b"")
        data = self._request_body(receive, exchange) if has_body else None
        if data is None:
            self._watch(receive, exchange)
        response: Any
        if self._native:
            target = exchange.forward_path + b"?" + query if query else exchange.forward_path
            response = await self.pool.http1(upstream).request(method, target, headers, data, chunked=chunked)
        else:
            url = URL.build(
                scheme=upstream.scheme,
                host=upstream.host,
                port=upstream.port,
                path=exchange.forward_path.decode("latin-1"),
                query_string=query.decode("latin-1"),
                encoded=True,
            )
            session = self.pool.session(upstream)
            text_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
            try:
                response = await session.request(
                    method, url, headers=text_headers, data=data, allow_redirects=False
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise _translate(exc) from exc
        exchange.ttfb = time.perf_counter()
        try:
            status: int = response.status
            hooks = self.hooks
            if hooks is not None and status >= 500 and not has_body and method in SAFE_METHODS:
                alternate = hooks.fallback_upstream(decision, method, reached=True, status=status)
                if (
                    alternate is not None
                    and alternate != decision.upstream
                    and exchange.fell_back_from is None
                ):
                    raise _Retry(alternate, UpstreamProtocolError(f"upstream answered {status}"))
            out, has_rid = response_headers(response.raw_headers, self._rid_name)
            if not has_rid:
                out.append((self._rid_name, request_id.encode("latin-1")))
            if self._route_headers:
                out.append((b"x-gateway-route", decision.route_id.encode("latin-1")))
                out.append((b"x-gateway-upstream", decision.upstream.encode("latin-1")))
            copy = hooks is not None and hooks.wants_copy(decision)
            if hooks is not None:
                exchange.response_headers = out
            if method == "HEAD" or status in _NO_BODY_STATUS:
                _finish(exchange)
                exchange.started = True
                await send({"type": "http.response.start", "status": status, "headers": out})
                await send({"type": "http.response.body", "body": b""})
                if copy:
                    exchange.copy = []
                return status
            length = response.content_length
            if length is not None and length <= SMALL_BODY:
                try:
                    body = await response.read()
                except (TimeoutError, aiohttp.ClientError) as exc:
                    raise _translate(exc) from exc
                _finish(exchange)
                exchange.started = True
                await send({"type": "http.response.start", "status": status, "headers": out})
                exchange.bytes_out = len(body)
                await send({"type": "http.response.body", "body": body})
                if copy:
                    exchange.copy = [body]
                return status
            exchange.started = True
            await send({"type": "http.response.start", "status": status, "headers": out})
            content = response.content
            kept: list[bytes] | None = [] if copy else None
            try:
                while True:
                    chunk = await content.readany()
                    if not chunk:
                        break
                    exchange.bytes_out += len(chunk)
                    if kept is not None:
                        kept = kept if exchange.bytes_out <= COPY_LIMIT else None
                        if kept is not None:
                            kept.append(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except (TimeoutError, aiohttp.ClientError, UpstreamError):
                # Headers are out: the only honest signal left is to cut the response short.
                self._log.warning("proxy.upstream_aborted", request_id=request_id, upstream=upstream.name)
                _finish(exchange)
                return status
            _finish(exchange)
            await send({"type": "http.response.body", "body": b""})
            exchange.copy = kept
            return status
        finally:
            response.release()


def _finish(exchange: _Exchange) -> None:
    """Stop watching for a disconnect: the server reports one once the response is complete."""
    exchange.finished = True
    if exchange.timer is not None:
        exchange.timer.cancel()
    if exchange.watcher is not None:
        exchange.watcher.cancel()


def _start_watcher(
    loop: asyncio.AbstractEventLoop, receive: Receive, exchange: _Exchange, task: asyncio.Task[Any] | None
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
