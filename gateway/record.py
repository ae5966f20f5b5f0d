"""Record: what happened to each request, per route and side, and what it changes.

After the answer the proxy reports the :class:`Outcome`; :class:`Outcomes` counts it against its
side (the dashboard's statistics), feeds the target's circuit breaker, and feeds the route's guard
tripwire, which pins the route when the target misbehaves. A fallback counts against the target
(it failed first) and for legacy (it answered).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.breaker import Breakers
from gateway.canary import Side
from gateway.compiler import DEFAULT_ROUTE_ID, CompiledRoute
from gateway.decide import Decision
from gateway.guard import GuardLimits, SlidingWindow, Tripwire
from gateway.pins.store import Pins
from gateway.timeseries import Series
from gateway.types import Clock

STATS_WINDOW = 300.0
"""Seconds of per-side statistics shown on the dashboard."""


@dataclass(frozen=True, slots=True)
class SideSnapshot:
    """One route side's numbers for the read model (admin API, dashboard, metrics)."""

    requests: int
    errors: int
    window_requests: int
    error_rate: float
    p50_ms: float | None
    p99_ms: float | None


class SideStats:
    """Totals since start, a sliding window (count, errors, p50/p99) and the last hour in 10 s
    buckets (:class:`~gateway.timeseries.Series`) for one route side."""

    __slots__ = ("errors", "requests", "series", "window")

    def __init__(self, clock: Clock) -> None:
        self.requests = 0
        self.errors = 0
        self.window = SlidingWindow(STATS_WINDOW, clock)
        self.series = Series()

    def add(self, latency_ms: float, error: bool, now: float) -> None:
        self.requests += 1
        self.errors += error
        self.window.add(latency_ms, error)
        self.series.add(now, latency_ms, error)

    def snapshot(self) -> SideSnapshot:
        window = self.window
        window.refresh()
        return SideSnapshot(
            self.requests,
            self.errors,
            window.count,
            window.error_rate,
            window.quantile_ms(0.5) if window.count else None,
            window.quantile_ms(0.99) if window.count else None,
        )


@dataclass(slots=True)  # not frozen: built once per request, and a frozen __init__ costs more
class Outcome:
    """How one request ended, as the cutover machinery needs it."""

    decision: Decision
    status: int
    latency_s: float
    #: False when the request never reached ``decision.upstream``.
    reached: bool = True
    #: The upstream that failed first when a fallback answered.
    fell_back_from: str | None = None


def guard_limits(route: CompiledRoute) -> GuardLimits | None:
    rule = route.guard
    if rule is None:
        return None
    return GuardLimits(
        max_error_rate=rule.max_error_rate,
        max_p99_ms=rule.max_p99 * 1000 if rule.max_p99 is not None else None,
        min_requests=rule.min_requests,
        window=rule.window,
    )


class Outcomes:
    """Per-route, per-side statistics and the feedback loops (breaker, tripwire → pin)."""

    def __init__(
        self,
        *,
        pins: Pins,
        breakers: Breakers,
        spawn: Callable[[Coroutine[Any, Any, Any]], None],
        monotonic: Clock = time.monotonic,
        clock: Clock = time.time,
    ) -> None:
        self.pins = pins
        self.breakers = breakers
        self._spawn = spawn
        self._monotonic = monotonic
        #: Wall clock of the per-side series (their buckets are wall-clock intervals).
        self.clock = clock
        self.stats: dict[tuple[str, str], SideStats] = {}
        self.tripwires: dict[str, Tripwire] = {}
        self.fallbacks: dict[str, int] = {}
        self.fingerprints: Mapping[str, str] = {}
        self.default_requests = 0
        #: Unmatched requests (the default upstream, legacy) over the last hour.
        self.default_series = Series()
        #: Canary requests counted as flip evidence (route id, side, latency ms, error): ``gateway.gates``.
        self.evidence: Callable[[str, str, float, bool], None] | None = None

    def adopt(self, routes: Mapping[str, CompiledRoute], fingerprints: Mapping[str, str]) -> None:
        """A new table: keep what still applies, drop what left with its route."""
        self.fingerprints = fingerprints
        tripwires: dict[str, Tripwire] = {}
        for route in routes.values():
            limits = guard_limits(route)
            if limits is None:
                continue
            existing = self.tripwires.get(route.id)
            tripwires[route.id] = (
                existing
                if existing is not None and existing.config == limits
                else Tripwire(route.id, limits, self._monotonic)
            )
        self.tripwires = tripwires
        self.stats = {key: stats for key, stats in self.stats.items() if key[0] in routes}
        self.fallbacks = {rid: n for rid, n in self.fallbacks.items() if rid in routes}

    def side(self, route_id: str, side: str) -> SideStats | None:
        return self.stats.get((route_id, side))

    def record(self, outcome: Outcome) -> None:
        decision = outcome.decision
        if decision.route_id == DEFAULT_ROUTE_ID:
            self.default_requests += 1  # unmatched: the default upstream (legacy) answered
            self.default_series.add(self.clock(), outcome.latency_s * 1000, outcome.status >= 500)
            return
        if outcome.fell_back_from is not None:
            self.fallbacks[decision.route_id] = self.fallbacks.get(decision.route_id, 0) + 1
            self.observe(decision, 502, outcome.latency_s, side=Side.TARGET, upstream=outcome.fell_back_from)
            self.observe(decision, outcome.status, outcome.latency_s, side=Side.LEGACY)
        else:
            self.observe(decision, outcome.status, outcome.latency_s, reached=outcome.reached)

    def observe(
        self,
        decision: Decision,
        status: int,
        latency_s: float,
        *,
        reached: bool = True,
        side: str | None = None,
        upstream: str | None = None,
    ) -> None:
        """Count one answered (or failed) request against its side; feed breaker and tripwire."""
        if decision.route_id == DEFAULT_ROUTE_ID:
            return
        error = status >= 500 or not reached
        side = str(decision.side) if side is None else side
        key = (decision.route_id, side)
        stats = self.stats.get(key)
        if stats is None:
            stats = self.stats[key] = SideStats(self._monotonic)
        latency_ms = latency_s * 1000
        stats.add(latency_ms, error, self.clock())
        if decision.why == "bucket" and self.evidence is not None:  # a canary request, by its bucket
            self.evidence(decision.route_id, side, latency_ms, error)
        if side != Side.TARGET:
            return
        breaker = self.breakers.get(upstream or decision.upstream)
        if error:
            breaker.record_failure(f"status {status}" if reached else "unreachable")
        else:
            breaker.record_success()
        tripwire = self.tripwires.get(decision.route_id)
        if tripwire is None or decision.route_id in self.pins.all():
            return
        breach = tripwire.observe(latency_ms, error)
        if breach is not None:
            tripwire.reset()
            fingerprint = self.fingerprints.get(decision.route_id, "")
            self.pins.mark(decision.route_id, breach.reason, fingerprint=fingerprint)
            self._spawn(self.pins.persist())

    def reset_tripwire(self, route_id: str) -> None:
        tripwire = self.tripwires.get(route_id)
        if tripwire is not None:
            tripwire.reset()

    def legacy_last_seen(self) -> dict[str, float | None]:
        """When legacy last answered each route (``default``: unmatched requests), from the series."""
        found: dict[str, float | None] = {"default": self.default_series.last_at}
        for (route_id, side), stats in self.stats.items():
            if side == Side.LEGACY:
                found[route_id] = stats.series.last_at
        return found

    def total_requests(self) -> int:
        return sum(s.requests for s in self.stats.values())
