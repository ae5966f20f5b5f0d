"""GCRA state shared by every gateway process and replica through Redis.

One key per (route, policy, client), holding the TAT in microseconds, updated by one Lua script
(``EVALSHA``: a single round trip, atomic, so two replicas can never both admit the last request).
The script reads Redis ``TIME`` rather than trusting each replica's clock, which may be skewed;
since Redis 5 scripts replicate as effects, so reading ``TIME`` before a write is allowed. The key
expires when its TAT passes: an idle client costs nothing. Keys carry the route id in a hash tag
(``{route}``), so a Redis Cluster keeps a route's keys on one slot.
"""

from __future__ import annotations

import contextlib
import hashlib

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.ratelimit.gcra import Verdict
from gateway.ratelimit.policy import Quota

DEFAULT_PREFIX = "figway"
#: Redis gets this long per call before the limiter falls back to local state.
DEFAULT_TIMEOUT = 0.25

# KEYS[1] the bucket; ARGV[1] interval (us), ARGV[2] tolerance (us).
# Returns {allowed 0|1, remaining, retry_after_us, reset_after_us}. Mirrors gateway.ratelimit.gcra.gcra.
GCRA_LUA = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, 0, allow_at - now, tat - now}
end
local ttl = new_tat - now
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.max(1, math.ceil(ttl / 1000)))
local remaining = math.floor((tolerance - ttl) / interval)
if remaining < 0 then remaining = 0 end
return {1, remaining, 0, ttl}
"""


class StoreUnavailable(Exception):
    """Redis did not answer (down, timed out, refused the script); the caller falls back."""


class RedisBuckets:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        timeout: float = DEFAULT_TIMEOUT,
        client: Redis | None = None,
    ) -> None:
        self._redis: Redis = client or Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False
        )
        self._script = self._redis.register_script(GCRA_LUA)
        self.prefix = prefix

    def key_for(self, quota: Quota, client_key: str) -> str:
        # Hashed: a header value chosen by the client never becomes a long or odd Redis key.
        digest = hashlib.blake2b(client_key.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
        return f"{self.prefix}:rl:{{{quota.route}}}:{quota.name}:{digest}"

    async def take(self, key: str, quota: Quota) -> Verdict:
        interval = max(1, round(quota.interval * 1_000_000))
        tolerance = max(interval, round(quota.tolerance * 1_000_000))
        try:
            reply = await self._script(keys=[self.key_for(quota, key)], args=[interval, tolerance])
        except (RedisError, OSError, TimeoutError) as exc:
            raise StoreUnavailable(str(exc) or type(exc).__name__) from exc
        allowed, remaining, retry_us, reset_us = (int(value) for value in reply)
        return Verdict(bool(allowed), remaining, retry_us / 1_000_000, reset_us / 1_000_000)

    async def aclose(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self._redis.aclose()
