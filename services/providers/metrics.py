"""Prometheus metrics of outbound provider calls (exposed by `services/metrics.py` at `/metrics`).

Module-level, registered once per process in the default registry, like the client they describe.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "figway_provider_requests_total",
    "Outbound provider requests (one per attempt) by outcome status",
    ["provider", "status"],
)
LATENCY = Histogram(
    "figway_provider_request_seconds",
    "Outbound provider request latency per attempt",
    ["provider"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RETRIES = Counter("figway_provider_retries_total", "Retries sent to a provider", ["provider"])
RETRIES_DENIED = Counter(
    "figway_provider_retries_denied_total", "Retries refused by the provider's retry budget", ["provider"]
)
RATE_LIMIT_WAIT = Histogram(
    "figway_provider_rate_limit_wait_seconds",
    "Time a request waited for its provider's rate-limit slot",
    ["provider"],
    buckets=(0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0),
)
BREAKER_STATE = Gauge(
    "figway_provider_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open", ["provider"]
)
FAST_FAILS = Counter(
    "figway_provider_fast_failures_total", "Calls refused because the breaker was open", ["provider"]
)
