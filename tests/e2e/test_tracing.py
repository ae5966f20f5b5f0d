"""One trace id end to end: client -> gateway -> services -> database and providers, real processes.

The test is the OTLP/HTTP collector: a small HTTP server that decodes each
``ExportTraceServiceRequest`` (opentelemetry-proto) the gateway and the services post to it.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.contract.harness import prepare_database
from tests.fakes.support import provider_config, running_fake
from tests.gateway.proxy_support import table_yaml
from tests.support.otlp import ReceivedSpan, otlp_receiver
from tests.support.servers import free_port, python_module, subprocess_server

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


def test_one_trace_spans_client_gateway_services_database_and_providers(tmp_path: Path) -> None:
    with otlp_receiver() as (endpoint, spans), running_fake(musicbrainz_min_interval=0.1) as fake:
        otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        db_env = {
            "DATABASE_URL": f"sqlite:///{tmp_path}/traced.db",
            "SERVICES_LOG_LEVEL": "warning",
            **provider_config(fake.url, MUSICBRAINZ_MIN_INTERVAL="0.1"),
        }
        prepare_database(db_env["DATABASE_URL"])  # the legacy schema, seeded, plus the migrations
        services_port = free_port()
        services_args = python_module("services", "serve", "--port", str(services_port), "--no-access-log")
        with subprocess_server(services_args, port=services_port, env={**db_env, **otel}):
            routing = tmp_path / "routing.yaml"
            routing.write_text(
                table_yaml({"services": f"{{url: 'http://127.0.0.1:{services_port}'}}"}, default="services")
            )
            gateway_port = free_port()
            gateway_env = {
                **otel,
                "GATEWAY_ROUTING_FILE": str(routing),
                "GATEWAY_WATCH": "false",
                "GATEWAY_STATE_DIR": str(tmp_path / "state"),
            }
            gateway_args = python_module("gateway", "serve", "--port", str(gateway_port))
            with subprocess_server(gateway_args, port=gateway_port, env=gateway_env):
                # Enrichment reads the artist from the database and calls the providers.
                response = httpx.post(
                    f"http://127.0.0.1:{gateway_port}/api/metadata-enrichment/enrich/1",
                    headers={"traceparent": f"00-{TRACE_ID}-{CLIENT_SPAN}-01"},
                    timeout=60,
                )
                assert response.status_code == 200, response.text
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not _complete(spans):
                    time.sleep(0.1)
    traced = [span for span in spans if span.trace_id == TRACE_ID]
    gateway = [span for span in traced if span.service == "figway-gateway"]
    assert len(gateway) == 1, traced
    assert gateway[0].parent_id == CLIENT_SPAN
    assert (
        gateway[0].attributes["figway.route"] == "(default)"
        or gateway[0].attributes["figway.upstream"] == "services"
    )
    services = [span for span in traced if span.service == "figway-services"]
    server_spans = [span for span in services if span.parent_id == gateway[0].span_id]
    assert server_spans, services  # the service continued the gateway's span, not the client's
    assert any("db.system" in span.attributes or "db.system.name" in span.attributes for span in services), (
        services
    )
    calls = [span for span in services if _provider_call(span, fake.url)]
    assert calls, services  # the provider calls are spans of the same trace
    by_id = {span.span_id: span for span in traced}
    for call in calls:  # ... below the gateway's span: client -> gateway -> services -> provider
        ancestor = call
        while ancestor.parent_id in by_id and ancestor.span_id != gateway[0].span_id:
            ancestor = by_id[ancestor.parent_id]
        assert ancestor.span_id == gateway[0].span_id, call


def _provider_call(span: ReceivedSpan, fake_url: str) -> bool:
    return str(span.attributes.get("url.full", span.attributes.get("http.url", ""))).startswith(fake_url)


def _complete(spans: list[ReceivedSpan]) -> bool:
    traced = [span for span in spans if span.trace_id == TRACE_ID]
    has_db = any("db.system" in s.attributes or "db.system.name" in s.attributes for s in traced)
    has_call = any("url.full" in s.attributes or "http.url" in s.attributes for s in traced)
    return has_db and has_call and any(s.service == "figway-gateway" for s in traced)
