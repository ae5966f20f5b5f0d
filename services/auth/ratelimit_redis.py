"""Login throttling in Redis (``REDIS_URL``): the same reserve-then-decide rule as
`DatabaseLoginLimiter`, kept in memory shared by every worker and replica.

One sorted set per hashed key (``figway:login:<sha256>``): members are attempts, scores their
times. A reservation is one MULTI/EXEC transaction per call: drop what left the window, add our
member, read the count and the two newest members. Redis runs the transaction alone, so
concurrent attempts each see a different count. A refund removes the member.

Redis being unreachable never opens the door: the calls fall back to the database limiter
(logged as ``auth.ratelimit_redis_unavailable``), which is still correct across replicas, only slower.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.auth.ratelimit import DelayPolicy, LoginLimiter, Reservation
from services.auth.tokens import digest

log = structlog.get_logger("services.auth.ratelimit")

PREFIX = "figway:login:"


class RedisLoginLimiter:
    def __init__(
        self,
        url: str,
        *,
        policy: DelayPolicy,
        window_seconds: int,
        fallback: LoginLimiter,
        client: Redis | None = None,
    ) -> None:
        self.policy = policy
        self.window = window_seconds
        self.fallback = fallback
        self._redis: Redis = client or Redis.from_url(url, decode_responses=True, socket_timeout=2.0)

    def _key(self, key: str) -> str:
        return PREFIX + digest(key)

    async def reserve(self, keys: Sequence[str]) -> Reservation:
        now = time.time()
        member = f"{now:.6f}:{uuid.uuid4().hex}"
        names = [self._key(key) for key in keys]
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for name in names:
                    pipe.zremrangebyscore(name, "-inf", now - self.window)
                    pipe.zadd(name, {member: now})
                    pipe.zcard(name)
                    pipe.zrevrange(name, 0, 1, withscores=True)
                    pipe.expire(name, self.window)
                results = await pipe.execute()
        except RedisError as exc:
            log.warning("auth.ratelimit_redis_unavailable", op="reserve", error=str(exc))
            return await self.fallback.reserve(keys)
        wait: int | None = None
        for index in range(len(names)):
            count = int(results[index * 5 + 2])
            newest = [(m, float(score)) for m, score in results[index * 5 + 3] if m != member]
            elapsed = now - newest[0][1] if newest else None
            found = self.policy.wait(count, elapsed)
            if found is not None:
                wait = max(wait or 0, found)
        return Reservation(wait, [("redis", name, member) for name in names])

    async def refund(self, reservation: Reservation) -> None:
        ours = [t for t in reservation.tokens if isinstance(t, tuple) and t[0] == "redis"]
        if len(ours) != len(reservation.tokens):  # reserved by the fallback
            await self.fallback.refund(reservation)
            return
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for _, name, member in ours:
                    pipe.zrem(name, member)
                await pipe.execute()
        except RedisError as exc:
            log.warning("auth.ratelimit_redis_unavailable", op="refund", error=str(exc))

    async def aclose(self) -> None:
        with contextlib.suppress(RedisError):
            await self._redis.aclose()
