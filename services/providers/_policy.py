"""Per-provider traffic policy, shared by every request of the process: a rate limiter, a
circuit breaker and a retry budget. Pure asyncio: waiting is `await asyncio.sleep`, never a
blocking sleep, so a queue of callers costs the event loop nothing.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

Clock = Callable[[], float]


class RateLimiter:
    """At most one request start per `min_interval` seconds.

    With `space_from_completion` (MusicBrainz) the slot is held while the request runs and the
    next one may start `min_interval` after the previous answer arrived, as legacy spaces them:
    arrival times at the provider can then never come closer than the interval, however late
    a send leaves a busy event loop. Otherwise slots are handed out by start time and requests
    overlap freely.
    """

    def __init__(
        self, min_interval: float, *, space_from_completion: bool = False, clock: Clock = time.monotonic
    ):
        self.min_interval = min_interval
        self.space_from_completion = space_from_completion
        self._clock = clock
        self._lock = asyncio.Lock()
        self._next_start = 0.0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[float]:
        """Wait for a slot; yields the seconds waited."""
        if self.min_interval <= 0:
            yield 0.0
            return
        started = self._clock()
        await self._lock.acquire()
        held = True
        try:
            delay = self._next_start - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next_start = self._clock() + self.min_interval
            if not self.space_from_completion:
                self._lock.release()
                held = False
            yield self._clock() - started
        finally:
            if held:
                self._next_start = self._clock() + self.min_interval
                self._lock.release()


class BreakerState(enum.IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """Open after `threshold` consecutive failures; after `reset_timeout` one probe is let
    through (half-open): its success closes the breaker, its failure opens it again."""

    def __init__(self, threshold: int, reset_timeout: float, *, clock: Clock = time.monotonic) -> None:
        self.threshold = threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._failures = 0
        self._opened_at = 0.0
        self._state = BreakerState.CLOSED
        self._probe_out = False

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_timeout:
            return BreakerState.HALF_OPEN
        return self._state

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one probe at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probe_out:
            self._state = BreakerState.HALF_OPEN
            self._probe_out = True
            return True
        return False

    def release_probe(self) -> None:
        """The probe was abandoned (cancelled) without an outcome: let another one through."""
        self._probe_out = False

    def record_success(self) -> None:
        self._failures = 0
        self._probe_out = False
        self._state = BreakerState.CLOSED

    def record_failure(self) -> None:
        self._probe_out = False
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or self._failures >= self.threshold:
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()


class RetryBudget:
    """Retries may add at most `ratio` extra requests per first attempt (plus a small reserve),
    so a failing provider sees its load grow by a fraction, never by the attempt count."""

    def __init__(self, ratio: float = 0.2, reserve: float = 5.0) -> None:
        self.ratio = ratio
        self.reserve = reserve
        self._tokens = reserve

    @property
    def tokens(self) -> float:
        return self._tokens

    def on_request(self) -> None:
        self._tokens = min(self.reserve, self._tokens + self.ratio)

    def try_spend(self) -> bool:
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
