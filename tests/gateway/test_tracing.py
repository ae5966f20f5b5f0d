"""W3C trace context: the gateway continues or starts a trace and forwards it to every upstream.

The parsing rules come from W3C Trace Context level 1; the wire tests run a real gateway in front of
real upstreams and read the headers the upstreams saw (the real forward and the shadow copy).
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from gateway.tracing import continue_or_start, parse_traceparent
from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server

VALID = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_is_read() -> None:
    assert parse_traceparent(VALID) == (b"4bf92f3577b34da6a3ce929d0e0e4736", b"00f067aa0ba902b7", b"01")
    # a later version may append fields after a dash; only the first four are read
    assert parse_traceparent(b"cc" + VALID[2:] + b"-what-the-future-holds") is not None


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"garbage",
        b"ff" + VALID[2:],  # version ff is forbidden
        VALID + b"-extra",  # version 00 is exactly 55 bytes
        VALID.upper(),  # lowercase hex only
        b"00-" + b"0" * 32 + VALID[35:],  # all-zero trace id
        VALID[:36] + b"0" * 16 + VALID[52:],  # all-zero parent id
        VALID[:52] + b"-zz",
        VALID.replace(b"-", b"_"),
    ],
)
def test_an_invalid_traceparent_is_refused(value: bytes) -> None:
    assert parse_traceparent(value) is None


def test_a_trace_is_continued_with_a_span_of_the_gateways_own() -> None:
    trace = continue_or_start(VALID)
    assert trace.trace_id == b"4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace.parent_id == b"00f067aa0ba902b7"
    assert trace.span_id != trace.parent_id and len(trace.span_id) == 16
    assert trace.traceparent() == b"00-4bf92f3577b34da6a3ce929d0e0e4736-" + trace.span_id + b"-01"
    mirror = trace.mirror_traceparent()
    assert mirror[:36] == trace.traceparent()[:36] and mirror != trace.traceparent()
    unsampled = continue_or_start(VALID[:53] + b"00")
    assert not unsampled.sampled and unsampled.traceparent().endswith(b"-00")
    # unknown flag bits are not passed on as the gateway's
    assert continue_or_start(VALID[:53] + b"ff").flags == b"01"


def test_a_missing_or_invalid_traceparent_starts_a_sampled_trace() -> None:
    for value in (None, b"nonsense"):
        trace = continue_or_start(value)
        assert trace.parent_id is None and trace.sampled
        assert parse_traceparent(trace.traceparent()) is not None
    assert continue_or_start(None).trace_id != continue_or_start(None).trace_id


SHADOW_ROUTE = """
  - id: items
    path: /items
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: shadow}
"""


def _headers(request: dict[str, object]) -> list[tuple[str, str]]:
    return [(str(n), str(v)) for n, v in request["headers"]]  # type: ignore[attr-defined]


def test_the_forward_and_the_shadow_copy_carry_the_clients_trace(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, legacy_state), upstream_server("services") as (svc, svc_state):
        text = table_yaml(
            {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{svc.url}'}}"}, SHADOW_ROUTE
        )
        with gateway_server(tmp_path, text) as (gateway, _):
            response = httpx.get(
                f"{gateway.url}/items",
                headers={"traceparent": VALID.decode(), "tracestate": "vendor=abc,other=1"},
            )
            assert response.status_code == 200
            deadline = time.monotonic() + 10
            while not svc_state.requests and time.monotonic() < deadline:
                time.sleep(0.02)
    forwarded = _headers(legacy_state.requests[0])
    mirrored = _headers(svc_state.requests[0])
    parents = [v for n, v in forwarded if n == "traceparent"]
    mirror_parents = [v for n, v in mirrored if n == "traceparent"]
    assert len(parents) == 1 and len(mirror_parents) == 1  # the client's header is replaced, not doubled
    forward_trace = parse_traceparent(parents[0].encode())
    mirror_trace = parse_traceparent(mirror_parents[0].encode())
    assert forward_trace is not None and mirror_trace is not None
    assert forward_trace[0] == mirror_trace[0] == b"4bf92f3577b34da6a3ce929d0e0e4736"
    # the gateway's span is the parent upstream; the mirror has a span of its own and the mark
    assert len({forward_trace[1], mirror_trace[1], b"00f067aa0ba902b7"}) == 3
    assert ("x-figway-shadow", "1") in mirrored and ("x-figway-shadow", "1") not in forwarded
    for headers in (forwarded, mirrored):
        assert ("tracestate", "vendor=abc,other=1") in headers


def test_a_request_without_traceparent_gets_one_started(tmp_path: Path) -> None:
    with upstream_server() as (up, state):  # noqa: SIM117
        with gateway_server(tmp_path, table_yaml({"legacy": f"{{url: '{up.url}'}}"})) as (gateway, _):
            assert httpx.get(f"{gateway.url}/first").status_code == 200
            assert httpx.get(f"{gateway.url}/second", headers={"traceparent": "bogus"}).status_code == 200
    traces = []
    for request in state.requests:
        values = [v for n, v in _headers(request) if n == "traceparent"]
        assert len(values) == 1
        parsed = parse_traceparent(values[0].encode())
        assert parsed is not None and parsed[2] == b"01"
        traces.append(parsed[0])
    assert len(set(traces)) == 2
