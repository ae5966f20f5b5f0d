"""Login rate limit in Redis (``REDIS_URL``): the same rule as `DatabaseLoginLimiter`, kept in memory
shared by every worker and replica instead of in the `auth_login_failures` table.

One sorted set per hashed key (``figway:login:<sha256>``): members are failures, scores their
times. A failure adds one member, drops those older than the window and sets the key to expire
with the window; the wait is ``oldest + window - now`` once the set holds ``attempts`` members.

Redis being unreachable never opens the door: both calls fall back to the database limiter
(logged as ``auth.ratelimit_redis_unavailable``), which is still correct across replicas, only slower.
"""

from __future__ import annotations

import contextlib
import math
import time
import uuid
from collections.abc import Sequence

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.ratelimit import LoginLimiter
from services.auth.tokens import digest

log = structlog.get_logger("services.auth.ratelimit")

PREFIX = "figway:login:"


class RedisLoginLimiter:
    def __init__(
        self,
        url: str,
        *,
        attempts: int,
        window_seconds: int,
        fallback: LoginLimiter,
        client: Redis | None = None,
    ) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self.fallback = fallback
        self._redis: Redis = client or Redis.from_url(url, decode_responses=True, socket_timeout=2.0)

    def _key(self, key: str) -> str:
        return PREFIX + digest(key)

    async def retry_after(self, session: AsyncSession, keys: Sequence[str]) -> int | None:
        now = time.time()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    name = self._key(key)
                    pipe.zremrangebyscore(name, "-inf", now - self.window)
                    pipe.zcard(name)
                    pipe.zrange(name, 0, 0, withscores=True)
                results = await pipe.execute()
        except RedisError as exc:
            log.warning("auth.ratelimit_redis_unavailable", op="retry_after", error=str(exc))
            return await self.fallback.retry_after(session, keys)
        wait = 0.0
        for index in range(len(keys)):
            count, oldest = results[index * 3 + 1], results[index * 3 + 2]
            if count >= self.attempts and oldest:
                wait = max(wait, float(oldest[0][1]) + self.window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    async def record_failure(self, session: AsyncSession, keys: Sequence[str]) -> None:
        now = time.time()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    name = self._key(key)
                    pipe.zadd(name, {f"{now:.6f}:{uuid.uuid4().hex[:8]}": now})
                    pipe.zremrangebyscore(name, "-inf", now - self.window)
                    pipe.expire(name, self.window)
                await pipe.execute()
        except RedisError as exc:
            log.warning("auth.ratelimit_redis_unavailable", op="record_failure", error=str(exc))
            await self.fallback.record_failure(session, keys)

    async def aclose(self) -> None:
        with contextlib.suppress(RedisError):
            await self._redis.aclose()
