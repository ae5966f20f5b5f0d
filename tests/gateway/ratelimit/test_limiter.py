from __future__ import annotations

import ipaddress
from typing import Any

from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from gateway.ratelimit.gcra import Verdict
from gateway.ratelimit.limiter import RateLimiter
from gateway.ratelimit.policy import Quota, RateLimit, compile_quotas
from gateway.ratelimit.redis_store import RedisBuckets, StoreUnavailable
from tests.support.servers import free_port


def _quotas(*policies: dict[str, Any]) -> tuple[Quota, ...]:
    return compile_quotas("login", tuple(RateLimit.model_validate(p) for p in policies))


def _scope(peer: str = "192.0.2.1", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"headers": headers or [], "client": (peer, 5555)}


class _Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_without_redis_the_process_counts_alone_and_says_so_in_metrics() -> None:
    registry = CollectorRegistry()
    limiter = RateLimiter(registry=registry, clock=_Clock())
    quotas = _quotas({"limit": 2, "window": 60})
    outcomes = [await limiter.check(quotas, _scope()) for _ in range(3)]
    assert [o is None for o in outcomes] == [True, True, False]
    refused = outcomes[2]
    assert refused is not None and refused.quota.name == "login" and refused.verdict.retry_after == 30.0
    value = registry.get_sample_value
    assert (
        value("figway_ratelimit_decisions_total", {"route": "login", "policy": "login", "outcome": "refused"})
        == 1
    )
    assert value("figway_ratelimit_shared") == 0


async def test_the_first_exhausted_policy_refuses() -> None:
    limiter = RateLimiter(registry=CollectorRegistry())
    quotas = _quotas(
        {"name": "wide", "limit": 100, "window": 60},
        {"name": "per-tenant", "limit": 1, "window": 60, "key": "header:x-tenant"},
    )
    assert await limiter.check(quotas, _scope(headers=[(b"x-tenant", b"a")])) is None
    refused = await limiter.check(quotas, _scope(headers=[(b"x-tenant", b"a")]))
    assert refused is not None and refused.quota.name == "per-tenant"
    assert await limiter.check(quotas, _scope(headers=[(b"x-tenant", b"b")])) is None


async def test_addresses_behind_a_trusted_proxy_get_their_own_budgets() -> None:
    limiter = RateLimiter(trusted=(ipaddress.ip_network("127.0.0.0/8"),), registry=CollectorRegistry())
    quotas = _quotas({"limit": 1, "window": 60})
    assert await limiter.check(quotas, _scope("127.0.0.1", [(b"x-forwarded-for", b"198.51.100.1")])) is None
    assert await limiter.check(quotas, _scope("127.0.0.1", [(b"x-forwarded-for", b"198.51.100.2")])) is None
    assert (
        await limiter.check(quotas, _scope("127.0.0.1", [(b"x-forwarded-for", b"198.51.100.1")])) is not None
    )


async def test_unreachable_redis_falls_back_to_local_counting_with_one_warning() -> None:
    registry = CollectorRegistry()
    clock = _Clock()
    store = RedisBuckets(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    limiter = RateLimiter(store=store, registry=registry, clock=clock)
    quotas = _quotas({"limit": 3, "window": 60})
    with capture_logs() as logs:
        outcomes = [await limiter.check(quotas, _scope()) for _ in range(5)]
    await limiter.aclose()
    assert [o is None for o in outcomes] == [True, True, True, False, False]
    warnings = [entry for entry in logs if entry["event"] == "ratelimit.store_unavailable"]
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"
    assert registry.get_sample_value("figway_ratelimit_store_failures_total") == 5
    assert registry.get_sample_value("figway_ratelimit_shared") == 0
    assert not limiter.shared


class _FlakyStore(RedisBuckets):
    """A real Redis store that fails while ``down`` is set (Redis going away and coming back)."""

    down = True

    async def take(self, key: str, quota: Quota) -> Verdict:
        if self.down:
            raise StoreUnavailable("connection refused")
        return await super().take(key, quota)


async def test_redis_is_asked_again_after_the_retry_interval_and_recovery_is_logged(
    redis_url: str, key_prefix: str
) -> None:
    registry = CollectorRegistry()
    clock = _Clock()
    store = _FlakyStore(redis_url, prefix=key_prefix, timeout=5.0)
    limiter = RateLimiter(store=store, registry=registry, clock=clock, retry_after=5.0)
    quotas = _quotas({"limit": 10, "window": 60})
    with capture_logs() as logs:
        assert await limiter.check(quotas, _scope()) is None
        store.down = False
        clock.now += 1.0
        assert await limiter.check(quotas, _scope()) is None  # still in the back-off: local
        assert registry.get_sample_value("figway_ratelimit_store_failures_total") == 2
        clock.now += 5.0
        assert await limiter.check(quotas, _scope()) is None
    await limiter.aclose()
    assert [e["event"] for e in logs] == ["ratelimit.store_unavailable", "ratelimit.store_recovered"]
    assert registry.get_sample_value("figway_ratelimit_store_failures_total") == 2
    assert registry.get_sample_value("figway_ratelimit_shared") == 1 and limiter.shared
