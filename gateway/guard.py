"""The guard's tripwire: notice when a route's target misbehaves, so that the route gets pinned.

Three things share the word "guard" and have distinct names: :class:`~gateway.routing_schema.GuardRule`
is the ``guard:`` section of routing.yaml, :class:`GuardLimits` its compiled thresholds, and
:class:`Tripwire` the per-route runtime object that watches a sliding window and reports a
:class:`Breach`. The pins themselves live in :mod:`gateway.pins`.

Each guarded route keeps a sliding window (``window`` seconds in 60 slots) of requests that
went to the target: count, errors (5xx or no answer) and a latency histogram. When at least
``min_requests`` are in the window and the error rate exceeds ``max_error_rate`` or the p99
exceeds ``max_p99_ms``, the guard reports a :class:`Breach` and the route is *pinned*: it goes
to legacy until an operator releases it (admin API) or the route itself changes in the table.

Pins survive restarts through a :class:`PinStore`; :class:`JsonFilePinStore` writes one small
JSON file atomically (temp file + rename). A shared store (e.g. Redis) only has to implement
the two methods of the protocol.

The p99 comes from a geometric histogram (20 % wide bins), so it is an upper bound within
20 % of the true value: plenty to tell a healthy route from a sick one, at O(1) per request.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

SLOTS = 60
_BINS = 80
_BIN_BASE_MS = 0.5
_BIN_RATIO = 1.2


def _bin_upper(index: int) -> float:
    return _BIN_BASE_MS * _BIN_RATIO**index


_UPPER = [_bin_upper(index) for index in range(_BINS)]


def _bin_of(latency_ms: float) -> int:
    """The first bin whose upper bound holds ``latency_ms`` (a C bisect: no log on the hot path)."""
    return min(_BINS - 1, bisect.bisect_left(_UPPER, latency_ms))


@dataclass(frozen=True)
class GuardLimits:
    max_error_rate: float | None = None
    max_p99_ms: float | None = None
    min_requests: int = 50
    window: float = 60.0


@dataclass(frozen=True)
class Breach:
    route_id: str
    reason: str
    requests: int
    error_rate: float
    p99_ms: float


class SlidingWindow:
    """Requests, errors and a latency histogram over the last ``window`` seconds."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._width = window / SLOTS
        self._clock = clock
        self._slot_ids = [-1] * SLOTS
        self._counts = [0] * SLOTS
        self._errors = [0] * SLOTS
        self._hist = [[0] * _BINS for _ in range(SLOTS)]
        self.count = 0
        self.errors = 0
        self._total_hist = [0] * _BINS

    def _slot(self, now: float) -> int:
        slot_id = int(now / self._width)
        index = slot_id % SLOTS
        if self._slot_ids[index] != slot_id:
            self._expire(now)
            self._slot_ids[index] = slot_id
        return index

    def _expire(self, now: float) -> None:
        oldest = int(now / self._width) - SLOTS + 1
        for index in range(SLOTS):
            if self._slot_ids[index] != -1 and self._slot_ids[index] < oldest:
                self.count -= self._counts[index]
                self.errors -= self._errors[index]
                hist = self._hist[index]
                for b in range(_BINS):
                    self._total_hist[b] -= hist[b]
                    hist[b] = 0
                self._counts[index] = self._errors[index] = 0
                self._slot_ids[index] = -1

    def add(self, latency_ms: float, error: bool) -> None:
        index = self._slot(self._clock())
        b = _bin_of(latency_ms)
        self._counts[index] += 1
        self._hist[index][b] += 1
        self._total_hist[b] += 1
        self.count += 1
        if error:
            self._errors[index] += 1
            self.errors += 1

    def refresh(self) -> None:
        self._expire(self._clock())

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0

    def quantile_ms(self, q: float) -> float:
        if not self.count:
            return 0.0
        rank = math.ceil(q * self.count)
        seen = 0
        for index, n in enumerate(self._total_hist):
            seen += n
            if seen >= rank:
                return _bin_upper(index)
        return _bin_upper(_BINS - 1)


class Tripwire:
    def __init__(
        self, route_id: str, config: GuardLimits, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.route_id = route_id
        self.config = config
        self._clock = clock
        self.window = SlidingWindow(config.window, clock)

    def reset(self) -> None:
        self.window = SlidingWindow(self.config.window, self._clock)

    def observe(self, latency_ms: float, error: bool) -> Breach | None:
        """Count one request that went to the target; a :class:`Breach` when the bound is passed."""
        window = self.window
        window.add(latency_ms, error)
        config = self.config
        if window.count < config.min_requests:
            return None
        if config.max_error_rate is not None and window.error_rate > config.max_error_rate:
            return self._breach(f"error rate {window.error_rate:.1%} > {config.max_error_rate:.1%}")
        # The histogram walk is cheap but not free: look at it every 8th request.
        if config.max_p99_ms is not None and window.count % 8 == 0:
            p99 = window.quantile_ms(0.99)
            if p99 > config.max_p99_ms:
                return self._breach(f"p99 {p99:.0f} ms > {config.max_p99_ms:g} ms")
        return None

    def _breach(self, what: str) -> Breach:
        window = self.window
        return Breach(
            self.route_id,
            f"{what} over {window.count} requests in {self.config.window:g}s",
            window.count,
            window.error_rate,
            window.quantile_ms(0.99),
        )
