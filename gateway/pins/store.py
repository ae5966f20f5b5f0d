"""Pins: routes held on their legacy side by the guard or an operator, and where pins are kept.

A pin survives restarts through a :class:`PinStore`: :class:`MemoryPinStore` (tests, one process),
:class:`JsonFilePinStore` (one small JSON file replaced atomically: temp file + rename), or
:class:`gateway.pins.redis_store.RedisPinStore` (shared by every worker and replica). A store only has
to implement the two methods of the protocol.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog

log = structlog.get_logger("gateway.pins")


@dataclass(frozen=True)
class Pin:
    route_id: str
    reason: str
    at: float
    fingerprint: str = ""
    """The route definition's hash when pinned: a changed route releases the pin."""
    by: str = "guard"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def stale_pins(pins: Mapping[str, Pin], fingerprints: Mapping[str, str]) -> list[str]:
    """Pins a table releases: their route is gone, or was changed since it was pinned."""
    return [
        route_id
        for route_id, pin in pins.items()
        if route_id not in fingerprints or (pin.fingerprint and fingerprints[route_id] != pin.fingerprint)
    ]


class PinStore(Protocol):
    async def load(self) -> dict[str, Pin]: ...

    async def save(self, pins: Mapping[str, Pin]) -> None: ...


class MemoryPinStore:
    def __init__(self) -> None:
        self.pins: dict[str, Pin] = {}

    async def load(self) -> dict[str, Pin]:
        return dict(self.pins)

    async def save(self, pins: Mapping[str, Pin]) -> None:
        self.pins = dict(pins)


class JsonFilePinStore:
    """Pins in one JSON file, replaced atomically so a crash never leaves half a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Pin]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            log.error("guard.pins_unreadable", path=str(self.path))
            return {}
        return {item["route_id"]: Pin(**item) for item in data.get("pins", [])}

    def _write(self, pins: Mapping[str, Pin]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"pins": [p.as_json() for p in pins.values()]}, indent=2)
        fd, tmp = tempfile.mkstemp(prefix=".pins-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def load(self) -> dict[str, Pin]:
        return await asyncio.to_thread(self._read)

    async def save(self, pins: Mapping[str, Pin]) -> None:
        await asyncio.to_thread(self._write, pins)


@dataclass
class Pins:
    """The pinned routes, read on the hot path as a plain dict lookup."""

    store: PinStore = field(default_factory=MemoryPinStore)
    _pins: dict[str, Pin] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Marked here but not saved yet: a :meth:`refresh` must not drop them.
    _unsaved: set[str] = field(default_factory=set)

    async def load(self) -> None:
        self._pins = await self.store.load()

    async def refresh(self) -> None:
        """Reload a store other processes write too (Redis), keeping this process's unsaved marks."""
        async with self._lock:
            shared = await self.store.load()
            self._pins = {**shared, **{k: self._pins[k] for k in self._unsaved if k in self._pins}}

    def get(self, route_id: str) -> Pin | None:
        return self._pins.get(route_id)

    def all(self) -> Mapping[str, Pin]:
        return self._pins

    def mark(self, route_id: str, reason: str, *, fingerprint: str = "", by: str = "guard") -> Pin:
        """Pin at once (the next request already goes to legacy); :meth:`persist` saves it."""
        existing = self._pins.get(route_id)
        if existing is not None:
            return existing
        pin = Pin(route_id, reason, time.time(), fingerprint, by)
        self._pins = {**self._pins, route_id: pin}
        self._unsaved.add(route_id)
        log.warning("guard.pinned", route=route_id, reason=reason, by=by)
        return pin

    async def persist(self) -> None:
        async with self._lock:
            pins = self._pins
            await self.store.save(pins)
            self._unsaved -= set(pins)

    async def pin(self, route_id: str, reason: str, *, fingerprint: str = "", by: str = "guard") -> Pin:
        pin = self.mark(route_id, reason, fingerprint=fingerprint, by=by)
        await self.persist()
        return pin

    async def release(self, route_id: str, *, why: str = "operator") -> bool:
        async with self._lock:
            if route_id not in self._pins:
                return False
            self._pins = {k: v for k, v in self._pins.items() if k != route_id}
            self._unsaved.discard(route_id)
            await self.store.save(self._pins)
        log.warning("guard.released", route=route_id, why=why)
        return True

    async def reconcile(self, fingerprints: Mapping[str, str]) -> list[str]:
        """After a reload: release pins of routes that are gone or were changed."""
        released = stale_pins(self._pins, fingerprints)
        for route_id in released:
            await self.release(route_id, why="route changed")
        return released
