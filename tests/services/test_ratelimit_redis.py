"""Login throttling kept in Redis (REDIS_URL): shared by every services process, whatever its database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from services.auth.ratelimit import DatabaseLoginLimiter, DelayPolicy, Reservation
from services.auth.ratelimit_redis import RedisLoginLimiter
from services.auth.state import build_auth_state
from services.settings import Settings
from tests.services._auth_support import prepare_users, serve
from tests.support.redis import redis_server

POLICY = DelayPolicy(attempts=3, max_delay=600, base=60)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path / "redis") as url:
        yield url


class RecordingLimiter:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def reserve(self, keys: Sequence[str]) -> Reservation:
        self.calls.append("reserve")
        return Reservation(7, ["db"])

    async def refund(self, reservation: Reservation) -> None:
        self.calls.append("refund")


def test_failures_past_the_limit_give_a_wait(redis_url: str) -> None:
    async def scenario() -> list[int | None]:
        limiter = RedisLoginLimiter(redis_url, policy=POLICY, window_seconds=600, fallback=RecordingLimiter())
        keys = ["user:1", "ip:10.0.0.1"]
        waits = [(await limiter.reserve(keys)).wait for _ in range(3)]
        refused = await limiter.reserve(keys)
        waits.append(refused.wait)
        await limiter.refund(refused)
        waits.append((await limiter.reserve(["user:2"])).wait)  # another user, another address
        waits.append((await limiter.reserve(["user:2", "ip:10.0.0.1"])).wait)  # same address
        await limiter.aclose()
        return waits

    first, second, third, blocked, other, same_ip = asyncio.run(scenario())
    assert (first, second, third, other) == (None, None, None, None)
    assert blocked is not None and 55 <= blocked <= 60
    assert same_ip is not None


def test_refunded_attempts_do_not_count(redis_url: str) -> None:
    async def scenario() -> int | None:
        limiter = RedisLoginLimiter(redis_url, policy=POLICY, window_seconds=600, fallback=RecordingLimiter())
        for _ in range(5):  # five successful logins: each refunded
            await limiter.refund(await limiter.reserve(["user:1"]))
        wait = (await limiter.reserve(["user:1"])).wait
        await limiter.aclose()
        return wait

    assert asyncio.run(scenario()) is None


def test_a_concurrent_burst_lets_exactly_the_limit_through(redis_url: str) -> None:
    async def scenario() -> list[int | None]:
        limiter = RedisLoginLimiter(redis_url, policy=POLICY, window_seconds=600, fallback=RecordingLimiter())
        found = await asyncio.gather(*(limiter.reserve(["ip:10.0.0.9"]) for _ in range(50)))
        await limiter.aclose()
        return [r.wait for r in found]

    waits = asyncio.run(scenario())
    assert waits.count(None) == 3


def test_keys_are_stored_hashed(redis_url: str) -> None:
    async def scenario() -> list[str]:
        limiter = RedisLoginLimiter(redis_url, policy=POLICY, window_seconds=60, fallback=RecordingLimiter())
        await limiter.reserve(["name:alice"])
        names = [name async for name in limiter._redis.scan_iter("figway:login:*")]
        await limiter.aclose()
        return names

    (name,) = asyncio.run(scenario())
    assert "alice" not in name and len(name) == len("figway:login:") + 64


def test_redis_down_falls_back_to_the_database_limiter() -> None:
    fallback = RecordingLimiter()

    async def scenario() -> int | None:
        limiter = RedisLoginLimiter(
            "redis://127.0.0.1:1/0", policy=POLICY, window_seconds=60, fallback=fallback
        )
        reservation = await limiter.reserve(["user:1"])
        await limiter.refund(reservation)
        await limiter.aclose()
        return reservation.wait

    assert asyncio.run(scenario()) == 7
    assert fallback.calls == ["reserve", "refund"]


def test_redis_url_selects_the_redis_limiter_with_the_database_one_behind_it() -> None:
    assert isinstance(build_auth_state(Settings()).limiter, DatabaseLoginLimiter)
    limiter = build_auth_state(Settings(redis_url="redis://127.0.0.1:6379/0")).limiter
    assert isinstance(limiter, RedisLoginLimiter)
    assert isinstance(limiter.fallback, DatabaseLoginLimiter)


def test_failures_on_one_services_process_block_logins_on_another(redis_url: str, tmp_path: Path) -> None:
    # Two services with *different* databases: only Redis can carry the count from one to the other.
    one, two = f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'two.db'}"
    prepare_users(one)
    prepare_users(two)
    limits = {"login_rate_limit_attempts": 3, "redis_url": redis_url, "login_delay_base_seconds": 60}
    with serve(one, **limits) as first, serve(two, **limits) as second:
        for _ in range(3):
            wrong = {"username": "user", "password": "wrong"}
            assert first.client.post("/auth/token", json=wrong).status_code == 401
        blocked = second.client.post("/auth/token", json={"username": "user", "password": "Figway-demo-1"})
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert (
            second.client.post("/auth/token", json={"username": "admin", "password": "x"}).status_code == 429
        )
