from __future__ import annotations

from gateway.breaker import Breakers, CircuitBreaker, State


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_and_blocks() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("services", failure_threshold=3, reset_after=10, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is State.CLOSED and breaker.allow()
    breaker.record_failure("connect refused")
    assert breaker.state is State.OPEN
    assert not breaker.allow()
    assert breaker.snapshot() == {
        "state": "open",
        "consecutive_failures": 3,
        "opened": 1,
        "reason": "connect refused",
    }


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("services", failure_threshold=1, reset_after=10, clock=clock)
    breaker.record_failure()
    clock.now += 10
    assert breaker.state is State.HALF_OPEN
    assert breaker.allow()
    assert not breaker.allow()
    breaker.record_failure()
    assert breaker.state is State.OPEN and breaker.opened_count == 2
    clock.now += 10
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is State.CLOSED and breaker.allow() and breaker.allow()


def test_health_results_open_and_close_the_breaker() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("services", reset_after=5, clock=clock)
    breaker.record_health(True)
    assert breaker.state is State.CLOSED
    breaker.record_health(False, "status 503")
    assert breaker.state is State.OPEN and breaker.last_reason == "status 503"
    breaker.record_health(False)
    assert breaker.opened_count == 1
    breaker.record_health(True)
    assert breaker.state is State.CLOSED


def test_breakers_are_kept_per_upstream() -> None:
    board = Breakers(["legacy"], failure_threshold=1)
    board.get("services").record_failure()
    assert board.get("services").state is State.OPEN
    assert board.get("legacy").state is State.CLOSED
    assert sorted(board.all()) == ["legacy", "services"]
