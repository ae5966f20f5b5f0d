"""Circuit breaker per upstream: closed → open → half-open → closed.

Closed: requests flow; ``failure_threshold`` failures in a row open it. Open: nothing is sent
for ``reset_after`` seconds (routes fall back to legacy without trying). Then half-open: one
probe request is let through (:meth:`CircuitBreaker.allow` is true for exactly one caller);
its success closes the breaker, its failure opens it again. Active health checks feed the
same breaker (:meth:`record_health`): a failed check opens it, a passing one closes it.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_RESET_AFTER = 10.0


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    name: str
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    reset_after: float = DEFAULT_RESET_AFTER
    clock: Callable[[], float] = time.monotonic
    _state: State = field(init=False, default=State.CLOSED)
    _failures: int = field(init=False, default=0)
    _opened_at: float = field(init=False, default=0.0)
    _probe_out: bool = field(init=False, default=False)
    last_reason: str = field(init=False, default="")
    opened_count: int = field(init=False, default=0)

    @property
    def state(self) -> State:
        if self._state is State.OPEN and self.clock() - self._opened_at >= self.reset_after:
            self._state = State.HALF_OPEN
            self._probe_out = False
        return self._state

    def allow(self) -> bool:
        """May a request be sent now? In half-open, only one probe at a time."""
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.HALF_OPEN and not self._probe_out:
            self._probe_out = True
            return True
        return False

    def would_allow(self) -> bool:
        """What :meth:`allow` would say now, without taking the half-open probe (explain asks this)."""
        state = self.state
        return state is State.CLOSED or (state is State.HALF_OPEN and not self._probe_out)

    def record_success(self) -> None:
        self._failures = 0
        self._probe_out = False
        self._state = State.CLOSED

    def record_failure(self, reason: str = "failure") -> None:
        self._failures += 1
        self._probe_out = False
        if self._state is State.HALF_OPEN or self._failures >= self.failure_threshold:
            self._open(reason)

    def record_health(self, ok: bool, reason: str = "health check failed") -> None:
        if ok:
            if self._state is not State.CLOSED:
                self.record_success()
        elif self._state is State.CLOSED or self.state is State.HALF_OPEN:
            self._open(reason)

    def _open(self, reason: str) -> None:
        if self._state is not State.OPEN:
            self.opened_count += 1
        self._state = State.OPEN
        self._opened_at = self.clock()
        self.last_reason = reason

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "consecutive_failures": self._failures,
            "opened": self.opened_count,
            "reason": self.last_reason,
        }


class Breakers:
    """One breaker per upstream name."""

    def __init__(
        self,
        names: Iterable[str] = (),
        *,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        reset_after: float = DEFAULT_RESET_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = (failure_threshold, reset_after, clock)
        self._by_name: dict[str, CircuitBreaker] = {}
        for name in names:
            self.get(name)

    def get(self, name: str) -> CircuitBreaker:
        breaker = self._by_name.get(name)
        if breaker is None:
            threshold, reset_after, clock = self._settings
            breaker = self._by_name[name] = CircuitBreaker(name, threshold, reset_after, clock)
        return breaker

    def all(self) -> Mapping[str, CircuitBreaker]:
        return self._by_name
