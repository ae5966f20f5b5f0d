"""Login rate limit kept in Redis (REDIS_URL): shared by every services process, whatever its database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.ratelimit import DatabaseLoginLimiter
from services.auth.ratelimit_redis import RedisLoginLimiter
from services.auth.state import build_auth_state
from services.settings import Settings
from tests.services._auth_support import prepare_users, serve
from tests.support.redis import redis_server


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path / "redis") as url:
        yield url


class RecordingLimiter:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def retry_after(self, session: AsyncSession, keys: Sequence[str]) -> int | None:
        self.calls.append("retry_after")
        return 7

    async def record_failure(self, session: AsyncSession, keys: Sequence[str]) -> None:
        self.calls.append("record_failure")


NO_SESSION: AsyncSession = None  # type: ignore[assignment]  # the Redis path never touches it


def test_failures_past_the_limit_give_a_wait_within_the_window(redis_url: str) -> None:
    async def scenario() -> list[int | None]:
        limiter = RedisLoginLimiter(redis_url, attempts=3, window_seconds=600, fallback=RecordingLimiter())
        keys = ["user:alice", "ip:10.0.0.1"]
        waits = []
        for _ in range(3):
            waits.append(await limiter.retry_after(NO_SESSION, keys))
            await limiter.record_failure(NO_SESSION, keys)
        waits.append(await limiter.retry_after(NO_SESSION, keys))
        waits.append(await limiter.retry_after(NO_SESSION, ["user:bob"]))  # another user, another address
        waits.append(await limiter.retry_after(NO_SESSION, ["user:bob", "ip:10.0.0.1"]))  # same address
        await limiter.aclose()
        return waits

    first, second, third, blocked, other, same_ip = asyncio.run(scenario())
    assert (first, second, third, other) == (None, None, None, None)
    assert blocked is not None and 590 <= blocked <= 600
    assert same_ip is not None


def test_keys_are_stored_hashed(redis_url: str) -> None:
    async def scenario() -> list[str]:
        limiter = RedisLoginLimiter(redis_url, attempts=3, window_seconds=60, fallback=RecordingLimiter())
        await limiter.record_failure(NO_SESSION, ["user:alice"])
        names = [name async for name in limiter._redis.scan_iter("figway:login:*")]
        await limiter.aclose()
        return names

    (name,) = asyncio.run(scenario())
    assert "alice" not in name and len(name) == len("figway:login:") + 64


def test_redis_down_falls_back_to_the_database_limiter() -> None:
    fallback = RecordingLimiter()

    async def scenario() -> int | None:
        limiter = RedisLoginLimiter("redis://127.0.0.1:1/0", attempts=3, window_seconds=60, fallback=fallback)
        await limiter.record_failure(NO_SESSION, ["user:alice"])
        wait = await limiter.retry_after(NO_SESSION, ["user:alice"])
        await limiter.aclose()
        return wait

    assert asyncio.run(scenario()) == 7
    assert fallback.calls == ["record_failure", "retry_after"]


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
    limits = {"login_rate_limit_attempts": 3, "redis_url": redis_url}
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
