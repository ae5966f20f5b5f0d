"""Prometheus metrics, one registry per gateway app (tests build many apps in one process).

:class:`GatewayMetrics` is counted on the request path; :class:`CutoverCollector` reads the
cutover state at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from gateway.breaker import Breakers
from gateway.gates.keeper import Gatekeeper
from gateway.pins.store import Pins
from gateway.record import Outcomes
from gateway.shadow import DiffStore

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "figway_requests",
            "Proxied requests by route, mode, upstream and status.",
            ["route", "mode", "upstream", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "figway_request_duration_seconds",
            "Total time from request start to the last response byte, by route and upstream.",
            ["route", "upstream"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_latency = Histogram(
            "figway_upstream_duration_seconds",
            "Time until the upstream's response headers arrived, by route and upstream.",
            ["route", "upstream"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "figway_upstream_errors",
            "Requests that failed at the gateway (connect, timeout, protocol, client_gone, bad_request).",
            ["route", "upstream", "kind"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "figway_reloads", "Routing-table reloads by result.", ["result"], registry=self.registry
        )
        self.routes = Gauge("figway_routes", "Routes in the active table.", registry=self.registry)
        self._children: dict[tuple[str, str, str, int], tuple[Any, Any, Any]] = {}

    def observe(
        self, route: str, mode: str, upstream: str, status: int, total: float, ttfb: float | None
    ) -> None:
        key = (route, mode, upstream, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(route, mode, upstream, str(status)),
                self.latency.labels(route, upstream),
                self.upstream_latency.labels(route, upstream),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(total)
        if ttfb is not None:
            children[2].observe(ttfb)

    def error(self, route: str, upstream: str, kind: str) -> None:
        self.errors.labels(route, upstream, kind).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class CutoverCollector:
    """Prometheus view of the cutover state, built at scrape time (nothing on the request path)."""

    def __init__(self, outcomes: Outcomes, diffs: DiffStore, pins: Pins, breakers: Breakers) -> None:
        self._outcomes = outcomes
        self._diffs = diffs
        self._pins = pins
        self._breakers = breakers

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        sides = CounterMetricFamily(
            "figway_cutover_side_requests",
            "Requests per route and side (legacy/target).",
            labels=["route", "side"],
        )
        side_errors = CounterMetricFamily(
            "figway_cutover_side_errors",
            "5xx or unanswered requests per route and side.",
            labels=["route", "side"],
        )
        for (route_id, side), stats in self._outcomes.stats.items():
            sides.add_metric([route_id, side], stats.requests)
            side_errors.add_metric([route_id, side], stats.errors)
        shadow = CounterMetricFamily(
            "figway_shadow_requests", "Mirrored requests by route and result.", labels=["route", "result"]
        )
        for route_id, entry in self._diffs.routes().items():
            shadow.add_metric([route_id, "same"], entry.compared - entry.differing)
            shadow.add_metric([route_id, "different"], entry.differing)
            shadow.add_metric([route_id, "error"], entry.errors)
            shadow.add_metric([route_id, "dropped"], entry.dropped)
        fallbacks = CounterMetricFamily(
            "figway_fallbacks",
            "Requests answered by the fallback side after the target failed.",
            labels=["route"],
        )
        for route_id, count in self._outcomes.fallbacks.items():
            fallbacks.add_metric([route_id], count)
        pinned = GaugeMetricFamily(
            "figway_route_pinned", "1 while a route is pinned to legacy.", labels=["route"]
        )
        for route_id in self._pins.all():
            pinned.add_metric([route_id], 1)
        breaker = GaugeMetricFamily(
            "figway_breaker_open", "1 while an upstream's circuit breaker is not closed.", labels=["upstream"]
        )
        for name, state in self._breakers.all().items():
            breaker.add_metric([name], 0 if state.state == "closed" else 1)
        yield from (sides, side_errors, shadow, fallbacks, pinned, breaker)


class GateCollector:
    """Prometheus view of held flips and their evidence (``gateway.gates``), built at scrape time."""

    def __init__(self, gates: Gatekeeper) -> None:
        self._gates = gates

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        held = GaugeMetricFamily(
            "figway_route_held",
            "1 while a route's dated flip is held for want of evidence (the flip that waits, phase served).",
            labels=["route", "flip", "serving"],
        )
        for hold in self._gates.held_now():
            held.add_metric([hold.route_id, hold.gate.label, _phase_label(hold.serving)], 1)
        evidence = GaugeMetricFamily(
            "figway_gate_evidence",
            "Flip evidence gathered per gated route (shared by every replica): shadow comparisons and "
            "differing ones, canary requests and errors per side.",
            labels=["route", "kind"],
        )
        for route_id, recorded in self._gates.holds.recorded.items():
            for name, value in sorted(recorded.counts.items()):
                if ".h" not in name:
                    evidence.add_metric([route_id, name], value)
        yield from (held, evidence)


def _phase_label(phase: Any) -> str:
    return f"canary {phase.percent or 0:g}%" if phase.mode == "canary" else str(phase.mode)
