"""Services export their spans (FastAPI server span, SQLAlchemy statements) when an endpoint is set."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from services import tracing
from services.app import create_app
from services.settings import Settings
from tests.contract.harness import prepare_database
from tests.support.otlp import ReceivedSpan, otlp_receiver
from tests.support.servers import uvicorn_thread

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def test_without_an_endpoint_nothing_is_instrumented(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert tracing.tracer_provider() is None
    assert create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).state.tracer_provider is None


def test_a_request_continues_the_callers_trace_down_to_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/traced.db"
    prepare_database(url)
    with otlp_receiver() as (endpoint, spans):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
        app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/traced.db"))
        with uvicorn_thread(app) as server:
            # urllib, not httpx: the httpx instrumentation is process-wide while the app runs, and
            # an instrumented client would replace the test's traceparent with its own span
            request = urllib.request.Request(
                f"{server.url}/api/health/database",
                headers={"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
            deadline = time.monotonic() + 15
            while not any("db.system" in s.attributes for s in spans) and time.monotonic() < deadline:
                time.sleep(0.05)
    traced = [span for span in spans if span.trace_id == TRACE_ID]
    assert any(span.parent_id == "b7ad6b7169203331" for span in traced), spans
    assert any("db.system" in span.attributes for span in traced), traced


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_provider_calls_are_client_spans_of_the_callers_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    from tests.fakes.support import running_fake
    from tests.services.enrichment.test_router import fake_settings

    url = f"sqlite:///{tmp_path}/traced.db"
    prepare_database(url)
    with otlp_receiver() as (endpoint, spans), running_fake(musicbrainz_min_interval=0.1) as fake:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
        # The default provider client (straight on aiohttp) makes its own spans: traced too.
        settings = fake_settings(url, fake.url, provider_transport=transport)
        with uvicorn_thread(create_app(settings)) as server:
            request = urllib.request.Request(
                f"{server.url}/api/metadata-enrichment/enrich/1",
                method="POST",
                headers={"traceparent": f"00-{TRACE_ID}-b7ad6b7169203331-01"},
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                assert response.status == 200

            def provider_spans() -> list[ReceivedSpan]:
                return [
                    s
                    for s in spans
                    if s.trace_id == TRACE_ID
                    and fake.url in str(s.attributes.get("url.full", s.attributes.get("http.url", "")))
                ]

            deadline = time.monotonic() + 15
            while len({_path(s) for s in provider_spans()}) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
    called = {_path(span) for span in provider_spans()}
    assert {"spotify", "musicbrainz", "lastfm"} <= called, [s.attributes for s in spans]
    for span in provider_spans():  # one span per call: never a second layer of the same call
        assert not any(other.parent_id == span.span_id and _path(other) for other in spans), span
    server_span = next(s for s in spans if s.trace_id == TRACE_ID and s.parent_id == "b7ad6b7169203331")
    assert server_span.service == "figway-services"


def _path(span: ReceivedSpan) -> str:
    full = str(span.attributes.get("url.full", span.attributes.get("http.url", "")))
    return full.split("/", 4)[3] if full.count("/") >= 3 else ""
