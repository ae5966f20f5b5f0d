from __future__ import annotations

from gateway.guard import GuardLimits, SlidingWindow, Tripwire


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_error_rate_breach_needs_min_requests() -> None:
    clock = FakeClock()
    guard = Tripwire("videos", GuardLimits(max_error_rate=0.1, min_requests=20, window=60), clock)
    for _ in range(10):
        assert guard.observe(5.0, True) is None  # all errors, but too few requests to judge
    breach = None
    for _ in range(10):
        breach = guard.observe(5.0, False) or breach
    assert breach is not None
    assert breach.route_id == "videos" and breach.requests == 20 and breach.error_rate == 0.5
    assert breach.reason.startswith("error rate 50.0% > 10.0% over 20 requests")


def test_window_forgets_old_requests() -> None:
    clock = FakeClock()
    window = SlidingWindow(60, clock)
    for _ in range(30):
        window.add(1.0, True)
    clock.now += 30
    window.add(1.0, False)
    assert window.count == 31 and window.errors == 30
    clock.now += 31
    window.add(1.0, False)
    assert window.count == 2 and window.errors == 0
    clock.now += 120
    window.refresh()
    assert window.count == 0 and window.error_rate == 0.0 and window.quantile_ms(0.99) == 0.0


def test_p99_breach_and_histogram_estimate() -> None:
    clock = FakeClock()
    guard = Tripwire("slow", GuardLimits(max_p99_ms=200, min_requests=16, window=10), clock)
    for _ in range(15):
        assert guard.observe(10.0, False) is None
    assert guard.observe(10.0, False) is None
    assert 10.0 <= guard.window.quantile_ms(0.99) < 12.0
    breach = None
    for _ in range(16):
        breach = guard.observe(900.0, False) or breach
    assert breach is not None and breach.reason.startswith("p99 ")
    assert 900 <= breach.p99_ms < 900 * 1.2
    guard.reset()
    assert guard.window.count == 0
