"""The rate limiter the proxy asks before forwarding a request of a rate-limited route.

Shared state lives in Redis (``RedisBuckets``) when a URL is configured. When Redis cannot be
reached the limiter falls back to this process's own buckets (``LocalBuckets``) rather than failing
open (no limit at all) or closed (refusing everyone): each replica then enforces the whole limit by
itself, so N replicas admit up to N times it. The outage is logged once (``ratelimit.store_unavailable``,
a warning), counted, and Redis is tried again after ``retry_after`` seconds, so an outage costs one
timeout per interval, not one per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from gateway.ratelimit.gcra import LocalBuckets, Verdict
from gateway.ratelimit.keys import ClientAddress, Network, client_key
from gateway.ratelimit.policy import Quota
from gateway.ratelimit.redis_store import RedisBuckets, StoreUnavailable

log = structlog.get_logger("gateway.ratelimit")

#: Seconds between two attempts to reach Redis again after it failed.
STORE_RETRY_AFTER = 5.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """The policy that refused a request and its verdict (what the 429 says)."""

    quota: Quota
    verdict: Verdict


class RateLimitMetrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.decisions = Counter(
            "figway_ratelimit_decisions",
            "Requests checked against a rate-limit policy, by route, policy and outcome (allowed|refused).",
            ["route", "policy", "outcome"],
            registry=registry,
        )
        self.store_failures = Counter(
            "figway_ratelimit_store_failures",
            "Rate-limit checks answered from local state because Redis could not be reached.",
            registry=registry,
        )
        self.shared = Gauge(
            "figway_ratelimit_shared",
            "1 when rate limits are shared through Redis right now, 0 when this process counts alone.",
            registry=registry,
        )


class RateLimiter:
    def __init__(
        self,
        *,
        store: RedisBuckets | None = None,
        trusted: Sequence[Network] = (),
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry_after: float = STORE_RETRY_AFTER,
    ) -> None:
        self.store = store
        self.local = LocalBuckets(clock=clock)
        self.address = ClientAddress(trusted)
        self.metrics = RateLimitMetrics(registry)
        self._clock = clock
        self._retry_after = retry_after
        #: While set, Redis failed and is not asked again before this monotonic instant.
        self._store_down_until: float | None = None
        self.metrics.shared.set(1 if store is not None else 0)
        #: Requests refused per route in this process (the dashboard shows them).
        self.refused: dict[str, int] = {}

    @property
    def shared(self) -> bool:
        return self.store is not None and self._store_down_until is None

    async def check(self, quotas: Sequence[Quota], scope: Any) -> Refusal | None:
        """Spend one request of every policy; the first refusal, or ``None`` to let it through."""
        headers = scope["headers"]
        client = scope.get("client")
        address = self.address.of(headers, client[0] if client else None)
        for quota in quotas:
            verdict = await self._take(client_key(quota.key, headers, address), quota)
            outcome = "allowed" if verdict.allowed else "refused"
            self.metrics.decisions.labels(quota.route, quota.name, outcome).inc()
            if not verdict.allowed:
                self.refused[quota.route] = self.refused.get(quota.route, 0) + 1
                return Refusal(quota, verdict)
        return None

    async def _take(self, key: str, quota: Quota) -> Verdict:
        store = self.store
        if store is not None:
            down_until = self._store_down_until
            if down_until is None or self._clock() >= down_until:
                try:
                    verdict = await store.take(key, quota)
                except StoreUnavailable as exc:
                    self._store_failed(str(exc))
                else:
                    if down_until is not None:
                        self._store_down_until = None
                        self.metrics.shared.set(1)
                        log.warning("ratelimit.store_recovered", message="rate limits are shared again")
                    return verdict
            self.metrics.store_failures.inc()
        return self.local.take(key, quota)

    def _store_failed(self, error: str) -> None:
        first = self._store_down_until is None
        self._store_down_until = self._clock() + self._retry_after
        self.metrics.shared.set(0)
        if first:
            log.warning(
                "ratelimit.store_unavailable",
                error=error,
                message="Redis unreachable: rate limits are counted by this process alone "
                f"until it answers again (retried every {self._retry_after:g}s)",
            )

    async def aclose(self) -> None:
        if self.store is not None:
            await self.store.aclose()
