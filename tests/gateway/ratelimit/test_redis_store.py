from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from gateway.ratelimit.policy import RateLimit, compile_quotas
from gateway.ratelimit.redis_store import RedisBuckets, StoreUnavailable
from tests.support.servers import free_port


def _quota(limit: int, window: float):  # type: ignore[no-untyped-def]
    return compile_quotas("login", (RateLimit.model_validate({"limit": limit, "window": window}),))[0]


async def test_concurrent_takes_from_two_clients_admit_exactly_the_burst(
    redis_url: str, key_prefix: str
) -> None:
    first = RedisBuckets(redis_url, prefix=key_prefix, timeout=5.0)
    second = RedisBuckets(redis_url, prefix=key_prefix, timeout=5.0)
    quota = _quota(25, 3600)
    try:
        verdicts = await asyncio.gather(*(store.take("addr:1", quota) for store in [first, second] * 40))
        assert sum(v.allowed for v in verdicts) == 25
        assert sorted(v.remaining for v in verdicts if v.allowed) == list(range(25))
        refused = [v for v in verdicts if not v.allowed]
        assert all(143.0 < v.retry_after <= 144.0 for v in refused)  # one interval: 3600 / 25
        assert (await first.take("addr:2", quota)).allowed  # another client, another budget
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_bucket_expires_with_its_theoretical_arrival_time(redis_url: str, key_prefix: str) -> None:
    store = RedisBuckets(redis_url, prefix=key_prefix, timeout=5.0)
    quota = _quota(2, 60)
    client = Redis.from_url(redis_url)
    try:
        await store.take("addr:1", quota)
        ttl = await client.pttl(store.key_for(quota, "addr:1"))
        assert 29_000 <= ttl <= 30_000
        assert store.key_for(quota, "addr:1").startswith(f"{key_prefix}:rl:{{login}}:login:")
    finally:
        await client.delete(store.key_for(quota, "addr:1"))
        await client.aclose()
        await store.aclose()


async def test_an_unreachable_redis_raises_store_unavailable() -> None:
    store = RedisBuckets(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    try:
        with pytest.raises(StoreUnavailable):
            await store.take("addr:1", _quota(1, 1))
    finally:
        await store.aclose()
