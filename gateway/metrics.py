"""Prometheus metrics, one registry per gateway app (tests build many apps in one process)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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
