"""The streaming reverse proxy: a plain ASGI app over the compiled routing table.

A request's walk, top to bottom in :meth:`Proxy.http`:

1. **match** the normalised path against the table and **decide** the side
   (:meth:`gateway.decide.Decider.decide_request`);
2. **forward**: rewrite the headers (:mod:`gateway.forwarding`), send one
   :class:`~gateway.transport.base.UpstreamRequest` over the upstream's transport
   (:mod:`gateway.transport`) and relay the answer as it arrives (:mod:`gateway.relay`);
   **or fall back** once to the other side when :func:`gateway.fallback.fallback_for` allows it;
3. **record** the outcome once: metrics and access log, per-side statistics, breaker and guard
   (:mod:`gateway.record`), and **shadow** a copy to the target when the decision says so
   (:mod:`gateway.mirroring`).

Bodies are never buffered: the request body is an async generator over ``receive`` and the
response body is relayed chunk by chunk (:mod:`gateway.exchange` watches for the client leaving).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from email.utils import formatdate
from typing import Any

from gateway.canary import Side
from gateway.compiler import CompiledTable, TableRef
from gateway.decide import Decider, Decision
from gateway.errors import UpstreamError, UpstreamProtocolError, UpstreamTimeout
from gateway.exchange import Exchange
from gateway.fallback import Attempt, fallback_for
from gateway.forwarding import DuplicateHost, HeaderRewriter
from gateway.header_order import legacy_order
from gateway.headers import new_request_id, response_headers, valid_request_id
from gateway.hooks import Answer, ExchangeHooks
from gateway.legacy_limits import LegacyServerLimits
from gateway.metrics import GatewayMetrics
from gateway.mirroring import Mirroring
from gateway.paths import UnsafePath, split_path
from gateway.ratelimit import RateLimiter
from gateway.ratelimit import refusal as refusal_answer
from gateway.record import Outcome, Outcomes
from gateway.relay import relay
from gateway.server_header import ServerHeader
from gateway.settings import GatewaySettings
from gateway.spans import SpanExport
from gateway.tracing import TRACEPARENT, TraceContext, continue_or_start
from gateway.transport.base import UpstreamRequest
from gateway.transport.pool import UpstreamPool
from gateway.types import Receive, Scope, Send


class _Retry(Exception):
    """The target answered 5xx to a request the fallback rule may send elsewhere."""

    def __init__(self, upstream: str, error: UpstreamError) -> None:
        self.upstream = upstream
        self.error = error


def error_body(code: str, message: str, request_id: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "request_id": request_id}}).encode()


class Proxy:
    """ASGI app for every HTTP request outside ``/_gateway``."""

    def __init__(
        self,
        *,
        tables: TableRef,
        pool: UpstreamPool,
        settings: GatewaySettings,
        metrics: GatewayMetrics,
        logger: Any,
        decider: Decider,
        rewriter: HeaderRewriter,
        access_logger: Any = None,
        outcomes: Outcomes | None = None,
        mirroring: Mirroring | None = None,
        hooks: ExchangeHooks | None = None,
        limiter: RateLimiter | None = None,
        spans: SpanExport | None = None,
    ) -> None:
        self.tables = tables
        #: The span exporter, None unless OTEL_EXPORTER_OTLP_ENDPOINT is set (then one span a request).
        self.spans = spans
        self.limiter = limiter
        self.pool = pool
        self.metrics = metrics
        self.decider = decider
        self.rewriter = rewriter
        self.outcomes = outcomes
        self.mirroring = mirroring
        self.hooks = hooks
        self.log = logger
        self._access = access_logger if access_logger is not None else logger
        self._access_log = settings.access_log
        self._route_headers = settings.route_headers
        self.server_header = ServerHeader(settings.server_header)
        self._max_header_bytes = settings.max_header_bytes
        self._max_body = settings.max_body_bytes
        self.legacy_limits = LegacyServerLimits(
            settings.legacy_limit_request_line,
            settings.legacy_limit_request_field_size,
            settings.legacy_limit_request_fields,
        )
        self._rid_name = settings.request_id_header.lower().encode("latin-1")

    def request_id(self, scope: Scope) -> str:
        return self.identify(scope)[0]

    def identify(self, scope: Scope) -> tuple[str, TraceContext]:
        """The request id (the client's when valid) and the trace context, in one header pass."""
        rid_name = self._rid_name
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        request_id: str | None = None
        traceparent: bytes | None = None
        for name, value in headers:
            if name == rid_name:
                if request_id is None and valid_request_id(value):
                    request_id = value.decode("latin-1")
            elif name == TRACEPARENT:
                traceparent = None if traceparent is not None else value  # two headers: start afresh
        return request_id or new_request_id(), continue_or_start(traceparent)

    def gateway_headers(self, decision: Decision, request_id: str) -> list[tuple[bytes, bytes]]:
        extra = [(self._rid_name, request_id.encode("latin-1"))]
        if self._route_headers:
            extra.append((b"x-gateway-route", decision.route_id.encode("latin-1")))
            extra.append((b"x-gateway-upstream", decision.upstream.encode("latin-1")))
        return extra

    async def _send_error(self, exchange: Exchange, status: int, code: str, message: str) -> None:
        """The gateway's own answer (it is also the status and error kind recorded)."""
        exchange.status = status
        exchange.error = "bad_request" if status in (400, 413, 431) else code
        body = error_body(code, message, exchange.request_id)
        exchange.finish()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # The server's own Date header is off so that upstream answers keep theirs.
            (b"date", formatdate(usegmt=True).encode()),
        ]
        self.server_header.apply(headers, from_legacy=False)
        if exchange.decision is not None:
            headers.extend(self.gateway_headers(exchange.decision, exchange.request_id))
        else:
            headers.append((self._rid_name, exchange.request_id.encode("latin-1")))
        await exchange.send({"type": "http.response.start", "status": status, "headers": headers})
        await exchange.send({"type": "http.response.body", "body": body})
        exchange.bytes_out = len(body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        table = self.tables.table
        request_id, trace = self.identify(scope)
        exchange = Exchange(scope, receive, send, request_id, trace, time.perf_counter())
        exchange.task = asyncio.current_task()
        limited = False
        try:
            # 1. match and decide
            try:
                self._match_and_decide(table, exchange)
            except (UnsafePath, DuplicateHost) as exc:
                await self._send_error(exchange, 400, "bad_request", str(exc))
                return
            refused = self._refuse(exchange)
            if refused is not None:
                await self._send_error(exchange, *refused)
                return
            if self.limiter is not None and await self._rate_limited(table, exchange):
                limited = True  # answered 429 before anything was forwarded: no outcome, no shadow
                return
            # 2. forward, or fall back once
            while True:
                try:
                    exchange.status = await self._forward(exchange)
                    break
                except (UpstreamError, _Retry) as exc:
                    if not self._fall_back(table, exchange, exc):
                        raise exc.error if isinstance(exc, _Retry) else exc from None
        except UpstreamError as exc:
            exchange.reached = exc.reached
            if exchange.too_large:
                await self._send_error(exchange, 413, "body_too_large", "request body too large")
            elif exchange.client_gone:
                exchange.status, exchange.error = 499, "client_gone"
            else:
                await self._send_error(exchange, exc.status, exc.code, str(exc))
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not exchange.client_gone or task is None:
                raise
            task.uncancel()
            exchange.status, exchange.error = 499, "client_gone"
        finally:
            exchange.finish()
            # 3. record (and shadow)
            self._record(exchange)
            if exchange.decision is not None and not limited:
                self._answered(table, exchange)

    async def _rate_limited(self, table: CompiledTable, exchange: Exchange) -> bool:
        """Spend the request from its route's rate limits; answer 429 when one is exhausted."""
        decision = exchange.decision
        assert decision is not None and self.limiter is not None
        quotas = table.quotas.get(decision.route_id)
        if not quotas:
            return False
        refused = await self.limiter.check(quotas, exchange.scope)
        if refused is None:
            return False
        exchange.status, exchange.error = 429, "rate_limited"
        headers, body = refusal_answer(refused.quota, refused.verdict, exchange.request_id)
        headers.extend(self.gateway_headers(decision, exchange.request_id))
        exchange.finish()
        await exchange.send({"type": "http.response.start", "status": 429, "headers": headers})
        await exchange.send({"type": "http.response.body", "body": body})
        exchange.bytes_out = len(body)
        return True

    def _match_and_decide(self, table: CompiledTable, exchange: Exchange) -> None:
        scope = exchange.scope
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        if b"?" in raw_path:
            raw_path = raw_path.split(b"?", 1)[0]
        exchange.forward_path, parts = split_path(raw_path, scope["path"])
        decision = exchange.decision = self.decider.decide_request(table, scope["method"], parts, scope)
        upstream = exchange.upstream = table.upstreams[decision.upstream]
        rid, trace = exchange.request_id, exchange.trace
        head = exchange.head = self.rewriter.build(scope, upstream, rid, trace=trace)
        instead = self.legacy_limits.legacy_instead(table, decision, exchange.forward_path, scope, head)
        if instead is not None:  # legacy's server refuses it: let legacy answer (legacy_limits)
            exchange.decision = instead
            upstream = exchange.upstream = table.upstreams[instead.upstream]
            exchange.head = self.rewriter.build(scope, upstream, rid, trace=trace)

    def _refuse(self, exchange: Exchange) -> tuple[int, str, str] | None:
        head = exchange.head
        assert head is not None
        if head.size > self._max_header_bytes:
            return 431, "headers_too_large", "request headers too large"
        if self._max_body is not None and head.length is not None and head.length > self._max_body:
            return 413, "body_too_large", "request body too large"
        return None

    def _fall_back(self, table: CompiledTable, exchange: Exchange, exc: UpstreamError | _Retry) -> bool:
        """Point the exchange at the other side when the one fallback rule allows a second try."""
        decision, head = exchange.decision, exchange.head
        assert decision is not None and head is not None
        if exchange.fell_back_from is not None or exchange.client_gone or exchange.too_large:
            return False  # never a third try, and nothing to send once the client is gone
        if isinstance(exc, _Retry):
            alternate: str | None = exc.upstream
        else:
            if not exc.reached:
                attempt = Attempt.NOT_REACHED
            else:
                attempt = Attempt.TIMEOUT if isinstance(exc, UpstreamTimeout) else Attempt.FAILED
            alternate = fallback_for(
                decision,
                exchange.scope["method"],
                attempt,
                has_body=head.has_body,
                body_read=exchange.bytes_in > 0,
                answer_started=exchange.started,
            )
        if alternate is None:
            return False
        exchange.fell_back_from = decision.upstream
        exchange.reached = True
        exchange.decision = dataclasses.replace(decision, upstream=alternate)
        upstream = exchange.upstream = table.upstreams[alternate]
        rid, trace = exchange.request_id, exchange.trace
        exchange.head = self.rewriter.build(exchange.scope, upstream, rid, trace=trace)
        return True

    async def _forward(self, exchange: Exchange) -> int:
        decision, upstream, head = exchange.decision, exchange.upstream, exchange.head
        assert decision is not None and upstream is not None and head is not None
        scope = exchange.scope
        method: str = scope["method"]
        query: bytes = scope.get("query_string", b"")
        body = exchange.request_body(self._max_body) if head.has_body else None
        if body is None:
            exchange.watch()
        target = exchange.forward_path + b"?" + query if query else exchange.forward_path
        request = UpstreamRequest(method, target, head.headers, body, head.chunked)
        response = await self.pool.transport(upstream).send(request)
        exchange.ttfb = time.perf_counter()
        try:
            status = response.status
            if status >= 500 and exchange.fell_back_from is None:
                alternate = fallback_for(decision, method, Attempt.ANSWERED, status, has_body=head.has_body)
                if alternate is not None:
                    raise _Retry(alternate, UpstreamProtocolError(f"upstream answered {status}"))
            out, has_rid = response_headers(response.raw_headers, self._rid_name)
            from_legacy = decision.side is Side.LEGACY or exchange.fell_back_from is not None
            self.server_header.apply(out, from_legacy=from_legacy)
            if not from_legacy:
                legacy_order(out)
            if not has_rid:
                out.append((self._rid_name, exchange.request_id.encode("latin-1")))
            if self._route_headers:
                out.append((b"x-gateway-route", decision.route_id.encode("latin-1")))
                out.append((b"x-gateway-upstream", decision.upstream.encode("latin-1")))
            hooks = self.hooks
            keep_copy = decision.shadow or (hooks is not None and hooks.wants_copy(decision))
            if keep_copy or hooks is not None:
                exchange.response_headers = out
            return await relay(response, exchange, out, keep_copy=keep_copy, log=self.log)
        finally:
            response.release()

    def _answered(self, table: CompiledTable, exchange: Exchange) -> None:
        decision = exchange.decision
        assert decision is not None
        latency = time.perf_counter() - exchange.begun
        try:
            if self.outcomes is not None:
                self.outcomes.record(
                    Outcome(decision, exchange.status, latency, exchange.reached, exchange.fell_back_from)
                )
            copy = exchange.copy
            body = b"".join(copy) if copy is not None else None
            if decision.shadow and self.mirroring is not None and body is not None and exchange.error is None:
                self.mirroring.submit(table, decision, exchange, body)
            if self.hooks is not None:
                self.hooks.answered(
                    Answer(
                        table=table,
                        decision=decision,
                        scope=exchange.scope,
                        forward_path=exchange.forward_path,
                        request_id=exchange.request_id,
                        status=exchange.status,
                        headers=tuple(exchange.response_headers),
                        body=body,
                        latency_s=latency,
                        reached=exchange.reached,
                        fell_back_from=exchange.fell_back_from,
                        error=exchange.error,
                    )
                )
        except Exception:
            self.log.exception("proxy.record_failed", request_id=exchange.request_id)

    def _record(self, exchange: Exchange) -> None:
        """Metrics and the access-log line: once per request, whatever happened."""
        total = time.perf_counter() - exchange.begun
        decision = exchange.decision
        route = decision.route_id if decision is not None else "-"
        mode = decision.mode if decision is not None else "-"
        upstream = decision.upstream if decision is not None else "-"
        status, error_kind = exchange.status, exchange.error
        ttfb = None if exchange.ttfb is None else exchange.ttfb - exchange.begun
        self.metrics.observe(route, mode, upstream, status, total, ttfb)
        if error_kind is not None:
            self.metrics.error(route, upstream, error_kind)
        if self.spans is not None:
            try:
                self.spans.export(exchange, total)
            except Exception:  # a tracing fault must never cost the request its access log
                self.log.exception("proxy.span_failed", request_id=exchange.request_id)
        if self._access_log:
            scope = exchange.scope
            client = scope.get("client")
            self._access.info(
                "proxy.request",
                request_id=exchange.request_id,
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
                shadow=decision.shadow if decision is not None else False,
            )
