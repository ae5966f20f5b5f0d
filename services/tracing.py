"""OpenTelemetry for the services, on only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

The FastAPI instrumentation continues the ``traceparent`` the gateway sends (so the services' spans
are children of the gateway's), SQLAlchemy adds a span per statement and httpx one per provider
call: one trace shows client -> gateway -> service -> database and providers. Spans leave through
a batch processor (its own thread) to the OTLP/HTTP endpoint; the SDK reads the usual ``OTEL_*``
variables. Without an endpoint nothing is imported or wrapped: no cost per request.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

SERVICE_NAME = "figway-services"


def exporter_configured() -> bool:
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def tracer_provider() -> Any:
    """A provider exporting over OTLP/HTTP in batches, or None without an endpoint."""
    if not exporter_configured():
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def instrument_app(app: FastAPI, provider: Any) -> None:
    """Server spans for every request (excluding the health probes' noise is left to sampling)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)


class TracedSender(Protocol):
    """A provider client that makes its own client spans (services/providers/_direct.py)."""

    def use_tracer(self, tracer: Any) -> None: ...


def instrument_client(client: httpx.AsyncClient | TracedSender, provider: Any) -> None:
    """Client spans for the providers' calls, one per call.

    The process-wide instrumentation wraps httpx's own transport class only. The default
    provider client (`DirectSender`, straight on aiohttp) makes its spans itself once given a
    tracer; an httpx client on another transport is instrumented per client; one on httpx's
    own transport is left alone (it would get two spans).
    """
    if provider is None:
        return
    if not isinstance(client, httpx.AsyncClient):
        client.use_tracer(provider.get_tracer("services.providers"))
        return
    if isinstance(client._transport, httpx.AsyncHTTPTransport):
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)


def uninstrument(app: FastAPI) -> None:
    """Undo the process-wide patches (httpx, SQLAlchemy) when the app stops."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    HTTPXClientInstrumentor().uninstrument()
    SQLAlchemyInstrumentor().uninstrument()
    FastAPIInstrumentor.uninstrument_app(app)


def instrument_engines(provider: Any, *engines: AsyncEngine) -> None:
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    seen: set[int] = set()
    for engine in engines:
        if id(engine) not in seen:
            seen.add(id(engine))
            # skip_dep_check: the instrumentation declares "sqlalchemy < 2.1" while this project runs
            # 2.1; the engine event hooks it uses are unchanged in 2.1 (the e2e trace test checks it).
            SQLAlchemyInstrumentor().instrument(
                engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True
            )
