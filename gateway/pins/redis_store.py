"""Guard pins shared by every gateway process and replica through Redis (``REDIS_URL``).

Layout: one hash ``<prefix>:pins`` (route id → the pin as JSON) and a counter
``<prefix>:pins:version`` bumped by every write, in the same MULTI. Each process polls the
counter (one ``GET`` every ``interval`` seconds) and reloads the hash when it moved, so a pin
made on one replica is honoured by all of them within ``interval``.

:meth:`RedisPinStore.save` receives the whole pin set (the :class:`~gateway.pins.store.PinStore`
protocol) but writes only the difference from what this process last read or wrote: two replicas
pinning two different routes at the same moment both keep their pin, and a replica that has
not seen a release yet does not resurrect the released pin.

Redis being down never takes the gateway down: reads keep the last known pins, writes are
logged (``state.redis_unavailable``) and the pin still applies in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.pins.store import Pin

log = structlog.get_logger("gateway.state")

DEFAULT_PREFIX = "figway"
#: Seconds between two looks at the version counter.
DEFAULT_POLL_INTERVAL = 0.5


class _Refreshable(Protocol):
    async def refresh(self) -> None: ...


class RedisPinStore:
    """A :class:`~gateway.pins.store.PinStore` in Redis, plus :meth:`follow` to see other replicas' pins."""

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, client: Redis | None = None) -> None:
        self._redis: Redis = client or Redis.from_url(url, decode_responses=True, socket_timeout=2.0)
        self.key = f"{prefix}:pins"
        self.version_key = f"{prefix}:pins:version"
        #: The version and route ids this process last read or wrote.
        self.version: int | None = None
        self._known: dict[str, str] = {}

    async def load(self) -> dict[str, Pin]:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(self.version_key)
                pipe.hgetall(self.key)
                version, raw = await pipe.execute()
        except RedisError as exc:
            log.error("state.redis_unavailable", op="load", error=str(exc))
            return {route_id: _decode(data) for route_id, data in self._known.items()}
        self.version = int(version or 0)
        self._known = dict(raw)
        pins: dict[str, Pin] = {}
        for route_id, data in raw.items():
            try:
                pins[route_id] = _decode(data)
            except (ValueError, TypeError):
                log.error("state.pin_unreadable", route=route_id)
        return pins

    async def save(self, pins: Mapping[str, Pin]) -> None:
        wanted = {route_id: json.dumps(pin.as_json(), sort_keys=True) for route_id, pin in pins.items()}
        added: dict[Any, str] = {k: v for k, v in wanted.items() if self._known.get(k) != v}
        removed = [k for k in self._known if k not in wanted]
        if not added and not removed:
            return
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                if added:
                    pipe.hset(self.key, mapping=added)
                if removed:
                    pipe.hdel(self.key, *removed)
                pipe.incr(self.version_key)
                results = await pipe.execute()
        except RedisError as exc:
            log.error("state.redis_unavailable", op="save", error=str(exc))
            return
        self._known = wanted
        self.version = int(results[-1])

    async def changed(self) -> bool:
        """Whether another process wrote since this one last read or wrote."""
        try:
            version = await self._redis.get(self.version_key)
        except RedisError as exc:
            log.warning("state.redis_unavailable", op="poll", error=str(exc))
            return False
        return int(version or 0) != self.version

    async def follow(self, pins: _Refreshable, *, interval: float = DEFAULT_POLL_INTERVAL) -> None:
        """Reload ``pins`` whenever another process changed them (run it as a task; cancel to stop).

        ``Pins.refresh`` holds the pins' lock, so a reload never interleaves with this process's own
        save or release, and keeps a pin this process marked but has not saved yet.
        """
        while True:
            await asyncio.sleep(interval)
            if await self.changed():
                await pins.refresh()
                log.info("state.pins_reloaded", version=self.version)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False

    async def aclose(self) -> None:
        with contextlib.suppress(RedisError):
            await self._redis.aclose()


def _decode(data: str) -> Pin:
    fields: dict[str, Any] = json.loads(data)
    return Pin(**fields)
