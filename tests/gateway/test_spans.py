"""The gateway's span per request, exported over OTLP/HTTP to a collector the test runs."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from gateway.spans import SpanExport, exporter_configured
from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server
from tests.support.otlp import otlp_receiver

ROUTES = """
  - id: items
    path: /items
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: shadow}
"""


def test_no_endpoint_no_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert SpanExport.from_environment() is None
    assert exporter_configured({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"})


def test_each_sampled_request_exports_one_span_with_the_cutover_attributes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with otlp_receiver() as (endpoint, spans):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
        with upstream_server("legacy") as (legacy, _), upstream_server("services") as (svc, _):
            text = table_yaml(
                {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{svc.url}'}}"}, ROUTES
            )
            with gateway_server(tmp_path, text) as (gateway, app):
                assert app.spans is not None
                parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                assert httpx.get(f"{gateway.url}/items", headers={"traceparent": parent}).status_code == 200
                unsampled = "00-0af7651916cd43dd8448eb211c80319d-b7ad6b7169203331-00"
                assert (
                    httpx.get(f"{gateway.url}/items", headers={"traceparent": unsampled}).status_code == 200
                )
                assert httpx.get(f"{gateway.url}/other").status_code == 200
                deadline = time.monotonic() + 15
                while len(spans) < 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
            # the gateway's shutdown flushed its queue: both sampled requests are in, never the third
    by_trace = {span.trace_id: span for span in spans}
    assert len(spans) == 2 and "0af7651916cd43dd8448eb211c80319d" not in by_trace
    items = by_trace["0af7651916cd43dd8448eb211c80319c"]
    assert items.service == "figway-gateway" and items.name == "GET items"
    assert items.parent_id == "b7ad6b7169203331"
    assert items.attributes["figway.route"] == "items"
    assert items.attributes["figway.mode"] == "shadow"
    assert items.attributes["figway.side"] == "legacy"
    assert items.attributes["figway.shadow"] == "mirrored"
    assert items.attributes["figway.fallback"] is False
    assert items.attributes["http.response.status_code"] == 200
    started = next(span for span in spans if span is not items)
    assert started.parent_id == "" and started.attributes["figway.shadow"] == "none"
