"""Rate limiter, circuit breaker and retry budget, on a controlled clock where it matters."""

from __future__ import annotations

import asyncio
import time

from services.providers._policy import BreakerState, CircuitBreaker, RateLimiter, RetryBudget


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_rate_limiter_spaces_request_starts_by_the_interval() -> None:
    limiter = RateLimiter(0.05)
    starts: list[float] = []

    async def one() -> None:
        async with limiter.slot():
            starts.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(5)))
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) == 5
    assert all(gap >= 0.049 for gap in gaps), gaps


async def test_rate_limiter_spacing_from_completion_counts_from_the_previous_answer() -> None:
    limiter = RateLimiter(0.03, space_from_completion=True)
    spans: list[tuple[float, float]] = []

    async def one() -> None:
        async with limiter.slot():
            start = time.monotonic()
            await asyncio.sleep(0.02)  # the request itself
            spans.append((start, time.monotonic()))

    await asyncio.gather(*(one() for _ in range(4)))
    assert all(nxt[0] - prev[1] >= 0.029 for prev, nxt in zip(spans, spans[1:], strict=False)), spans


async def test_rate_limiter_with_no_interval_never_waits() -> None:
    async with RateLimiter(0).slot() as waited:
        assert waited == 0.0


def test_breaker_opens_after_threshold_then_half_opens_for_one_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=3, reset_timeout=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN and not breaker.allow()

    clock.now += 10
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() is True  # the probe
    assert breaker.allow() is False  # only one at a time
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN

    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_breaker_abandoned_probe_lets_another_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, reset_timeout=1, clock=clock)
    breaker.record_failure()
    clock.now += 1
    assert breaker.allow() and not breaker.allow()
    breaker.release_probe()
    assert breaker.allow()


def test_retry_budget_allows_a_fraction_of_requests_as_retries() -> None:
    budget = RetryBudget(ratio=0.25, reserve=2)
    assert budget.try_spend() and budget.try_spend()
    assert not budget.try_spend()
    for _ in range(4):
        budget.on_request()
    assert budget.try_spend()
    assert not budget.try_spend()
