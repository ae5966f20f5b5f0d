"""One OpenTelemetry SERVER span per proxied request, exported over OTLP/HTTP when configured.

Nothing here runs unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set: the
SDK is imported lazily and the request path only pays a ``None`` check. When it is set, the span is
built once the request is recorded, with the ids :mod:`gateway.tracing` already sent upstream (so
the upstream's spans are its children), and handed to a batch processor: the export happens on the
SDK's own thread, never on the event loop. The SDK reads the usual ``OTEL_*`` variables
(endpoint, headers, timeout, ``OTEL_SERVICE_NAME``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from gateway.exchange import Exchange

SERVICE_NAME = "figway-gateway"


def exporter_configured(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


class SpanExport:
    """Builds and queues the gateway's span for each sampled request."""

    def __init__(self, processor: Any, resource: Any) -> None:
        from opentelemetry.sdk.trace import ReadableSpan
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope
        from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

        self._processor = processor
        self._resource = resource
        self._readable = ReadableSpan
        self._scope = InstrumentationScope("figway.gateway")
        self._context = SpanContext
        self._server = SpanKind.SERVER
        self._sampled = TraceFlags(TraceFlags.SAMPLED)
        self._error = Status(StatusCode.ERROR)
        self._unset = Status(StatusCode.UNSET)

    @classmethod
    def from_environment(cls) -> SpanExport | None:
        """The OTLP/HTTP exporter behind a batch processor, or None when no endpoint is set."""
        if not exporter_configured():
            return None
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)})
        return cls(BatchSpanProcessor(OTLPSpanExporter()), resource)

    def export(self, exchange: Exchange, duration: float) -> None:
        """Queue the span of a finished exchange (route, mode, side, fallback, shadow as attributes)."""
        trace = exchange.trace
        if not trace.sampled:
            return
        trace_id = int(trace.trace_id, 16)
        parent = None
        if trace.parent_id is not None:
            parent = self._context(
                trace_id, int(trace.parent_id, 16), is_remote=True, trace_flags=self._sampled
            )
        scope = exchange.scope
        decision = exchange.decision
        attributes: dict[str, Any] = {
            "http.request.method": scope["method"],
            "url.path": scope["path"],
            "http.response.status_code": exchange.status,
            "figway.request_id": exchange.request_id,
        }
        if decision is not None:
            attributes["http.route"] = decision.route_id
            attributes["figway.route"] = decision.route_id
            attributes["figway.mode"] = decision.mode
            attributes["figway.side"] = str(decision.side)
            attributes["figway.upstream"] = decision.upstream
            attributes["figway.shadow"] = "mirrored" if decision.shadow and exchange.error is None else "none"
        attributes["figway.fallback"] = exchange.fell_back_from is not None
        if exchange.fell_back_from is not None:
            attributes["figway.fallback_from"] = exchange.fell_back_from
        if exchange.error is not None:
            attributes["error.type"] = exchange.error
        end = time.time_ns()
        span = self._readable(
            name=f"{scope['method']} {decision.route_id if decision is not None else scope['path']}",
            context=self._context(
                trace_id, int(trace.span_id, 16), is_remote=False, trace_flags=self._sampled
            ),
            parent=parent,
            resource=self._resource,
            attributes=attributes,
            kind=self._server,
            status=self._error if exchange.status >= 500 else self._unset,
            start_time=end - int(duration * 1e9),
            end_time=end,
            instrumentation_scope=self._scope,
        )
        self._processor.on_end(span)

    def shutdown(self) -> None:
        """Flush what is queued (on the gateway's shutdown)."""
        self._processor.shutdown()
