"""Flip evidence in Redis, shared by every gateway process and replica (``REDIS_URL``).

Per route and evidence fingerprint: a hash ``<prefix>:gates:<route>:<fingerprint>`` of counts
(added with ``HINCRBY``) and a hash ``...:opened`` of opened gates (written with ``HSETNX``: the
first opening stands, every replica reads the same one). One pipeline per exchange: the batch of
counts in, the totals out. Redis being down never takes the gateway down: the exchange returns
nothing (holds stay as they are) and the counts of that batch are logged as lost.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Collection, Mapping

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.gates.evidence import Counts
from gateway.gates.store import Opened, Recorded, RouteKey

log = structlog.get_logger("gateway.gates")


class RedisEvidenceStore:
    def __init__(self, url: str, *, prefix: str = "figway", client: Redis | None = None) -> None:
        self._redis: Redis = client or Redis.from_url(url, decode_responses=True, socket_timeout=2.0)
        self.prefix = prefix

    def _key(self, key: RouteKey) -> str:
        return f"{self.prefix}:gates:{key[0]}:{key[1]}"

    async def exchange(
        self, deltas: Mapping[RouteKey, Counts], keys: Collection[RouteKey]
    ) -> dict[RouteKey, Recorded]:
        wanted = list(keys)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, delta in deltas.items():
                    for name, value in delta.items():
                        pipe.hincrby(self._key(key), name, value)
                for key in wanted:
                    pipe.hgetall(self._key(key))
                    pipe.hgetall(self._key(key) + ":opened")
                results = await pipe.execute()
        except RedisError as exc:
            log.error("state.redis_unavailable", op="evidence", error=str(exc), lost=len(deltas))
            return {}
        reads = results[len(results) - 2 * len(wanted) :]
        out: dict[RouteKey, Recorded] = {}
        for position, key in enumerate(wanted):
            counts, opened = reads[2 * position], reads[2 * position + 1]
            out[key] = Recorded(
                {name: int(value) for name, value in counts.items()},
                {label: Opened.from_json(json.loads(data)) for label, data in opened.items()},
            )
        return out

    async def open(self, key: RouteKey, opened: Opened, *, replace: bool = False) -> Opened:
        name = self._key(key) + ":opened"
        data = json.dumps(opened.as_json())
        async with self._redis.pipeline(transaction=True) as pipe:
            if replace:
                pipe.hset(name, opened.label, data)
            else:
                pipe.hsetnx(name, opened.label, data)
            pipe.hget(name, opened.label)
            _, stored = await pipe.execute()
        return Opened.from_json(json.loads(stored)) if stored else opened

    async def aclose(self) -> None:
        with contextlib.suppress(RedisError):
            await self._redis.aclose()
