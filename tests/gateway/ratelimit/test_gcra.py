from __future__ import annotations

from gateway.ratelimit.gcra import LocalBuckets, gcra
from gateway.ratelimit.policy import RateLimit, compile_quotas


def _quota(limit: int, window: float, burst: int | None = None):  # type: ignore[no-untyped-def]
    policy = RateLimit.model_validate({"limit": limit, "window": window, "burst": burst})
    return compile_quotas("r", (policy,))[0]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_burst_is_admitted_then_exactly_the_next_request_is_refused() -> None:
    clock = _Clock()
    buckets = LocalBuckets(clock=clock)
    quota = _quota(10, 60)
    verdicts = [buckets.take("a", quota) for _ in range(12)]
    assert [v.allowed for v in verdicts] == [True] * 10 + [False] * 2
    assert [v.remaining for v in verdicts[:10]] == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    assert verdicts[10].retry_after == 6.0


def test_refused_requests_do_not_push_the_retry_further() -> None:
    clock = _Clock()
    buckets = LocalBuckets(clock=clock)
    quota = _quota(2, 10)
    for _ in range(2):
        assert buckets.take("a", quota).allowed
    for _ in range(50):
        assert not buckets.take("a", quota).allowed
    clock.now += 5.0
    assert buckets.take("a", quota).allowed
    assert not buckets.take("a", quota).allowed


def test_keys_have_separate_budgets() -> None:
    buckets = LocalBuckets(clock=_Clock())
    quota = _quota(1, 60)
    assert buckets.take("a", quota).allowed
    assert buckets.take("b", quota).allowed
    assert not buckets.take("a", quota).allowed


def test_the_sustained_rate_refills_one_request_per_interval() -> None:
    clock = _Clock()
    buckets = LocalBuckets(clock=clock)
    quota = _quota(60, 60, burst=1)
    admitted = 0
    for _ in range(300):  # 300 attempts, one every 0.25 s over 75 s: one per second gets in
        admitted += buckets.take("a", quota).allowed
        clock.now += 0.25
    assert admitted == 75


def test_local_state_is_bounded_and_sweeps_expired_keys_first() -> None:
    clock = _Clock()
    buckets = LocalBuckets(clock=clock, max_keys=3)
    quota = _quota(1, 1)
    for key in "abc":
        buckets.take(key, quota)
    clock.now += 2.0  # every TAT has passed: sweeping forgets them, verdicts unchanged
    buckets.take("d", quota)
    assert len(buckets) == 1
    for key in "efg":
        buckets.take(key, quota)
    assert len(buckets) == 3


def test_reset_after_is_when_the_whole_burst_is_back() -> None:
    quota = _quota(4, 8)
    verdict, tat = gcra(None, 0.0, quota)
    assert (verdict.allowed, verdict.remaining, verdict.reset_after, tat) == (True, 3, 2.0, 2.0)


def test_a_fresh_bucket_admits_its_first_request_at_any_clock_reading() -> None:
    # now + T - T is not now in floating point for most readings: a fresh key was once refused.
    quota = _quota(1, 3600)
    for now in (260403.07069295875, 7263.253893116106, 129003.00832148081, 0.1):
        assert gcra(None, now, quota)[0].allowed


def test_two_routes_with_the_same_client_key_do_not_share_a_local_budget() -> None:
    buckets = LocalBuckets(clock=_Clock())
    first = compile_quotas("a", (RateLimit.model_validate({"limit": 1, "window": 60}),))[0]
    second = compile_quotas("b", (RateLimit.model_validate({"limit": 1, "window": 60}),))[0]
    assert buckets.take("addr:1", first).allowed
    assert buckets.take("addr:1", second).allowed
    assert not buckets.take("addr:1", first).allowed
