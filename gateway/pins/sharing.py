"""Where the state that several gateway processes must share lives (today: guard pins).

Everything else in the gateway is per process on purpose: routing tables come from the same file,
canary buckets are hashes of the client, stats and breakers are local observations. Pins are the
exception, since a route pinned back to legacy must go to legacy on every worker and replica:

- ``REDIS_URL`` set: :class:`~gateway.pins.redis_store.RedisPinStore`, followed by a polling task;
- else a state directory: :class:`~gateway.pins.store.JsonFilePinStore` (one host, survives restarts);
- else memory (tests, one process).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from gateway.pins.redis_store import DEFAULT_POLL_INTERVAL, DEFAULT_PREFIX, RedisPinStore
from gateway.pins.store import JsonFilePinStore, MemoryPinStore, Pins, PinStore


def build_pin_store(
    *, redis_url: str | None = None, state_dir: Path | None = None, prefix: str = DEFAULT_PREFIX
) -> PinStore:
    if redis_url:
        return RedisPinStore(redis_url, prefix=prefix)
    if state_dir is not None:
        return JsonFilePinStore(state_dir / "pins.json")
    return MemoryPinStore()


@dataclass
class PinSharing:
    """Keeps a process's :class:`Pins` in step with the other processes' (a no-op for local stores)."""

    store: PinStore
    interval: float = DEFAULT_POLL_INTERVAL
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    @property
    def shared(self) -> bool:
        return isinstance(self.store, RedisPinStore)

    def start(self, pins: Pins) -> None:
        if isinstance(self.store, RedisPinStore) and self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self.store.follow(pins, interval=self.interval), name="pins.follow"
            )

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if isinstance(self.store, RedisPinStore):
            await self.store.aclose()
