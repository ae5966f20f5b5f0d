"""Guard: pin a route back to legacy when its target misbehaves.

Each guarded route keeps a sliding window (``window`` seconds in 60 slots) of requests that
went to the target: count, errors (5xx or no answer) and a latency histogram. When at least
``min_requests`` are in the window and the error rate exceeds ``max_error_rate`` or the p99
exceeds ``max_p99_ms``, the guard reports a :class:`Breach` and the route is *pinned*: it goes
to legacy until an operator releases it (admin API) or the route itself changes in the table.

Pins survive restarts through a :class:`PinStore`; :class:`JsonFilePinStore` writes one small
JSON file atomically (temp file + rename). A shared store (e.g. Redis) only has to implement
the two methods of the protocol.

The p99 comes from a geometric histogram (20 % wide bins), so it is an upper bound within
20 % of the true value: plenty to tell a healthy route from a sick one, at O(1) per request.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog

log = structlog.get_logger("gateway.guard")

SLOTS = 60
_BINS = 80
_BIN_BASE_MS = 0.5
_BIN_RATIO = 1.2


def _bin_upper(index: int) -> float:
    return _BIN_BASE_MS * _BIN_RATIO**index


_UPPER = [_bin_upper(index) for index in range(_BINS)]


def _bin_of(latency_ms: float) -> int:
    """The first bin whose upper bound holds ``latency_ms`` (a C bisect: no log on the hot path)."""
    return min(_BINS - 1, bisect.bisect_left(_UPPER, latency_ms))


@dataclass(frozen=True)
class GuardConfig:
    max_error_rate: float | None = None
    max_p99_ms: float | None = None
    min_requests: int = 50
    window: float = 60.0


@dataclass(frozen=True)
class Breach:
    route_id: str
    reason: str
    requests: int
    error_rate: float
    p99_ms: float


class SlidingWindow:
    """Requests, errors and a latency histogram over the last ``window`` seconds."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._width = window / SLOTS
        self._clock = clock
        self._slot_ids = [-1] * SLOTS
        self._counts = [0] * SLOTS
        self._errors = [0] * SLOTS
        self._hist = [[0] * _BINS for _ in range(SLOTS)]
        self.count = 0
        self.errors = 0
        self._total_hist = [0] * _BINS

    def _slot(self, now: float) -> int:
        slot_id = int(now / self._width)
        index = slot_id % SLOTS
        if self._slot_ids[index] != slot_id:
            self._expire(now)
            self._slot_ids[index] = slot_id
        return index

    def _expire(self, now: float) -> None:
        oldest = int(now / self._width) - SLOTS + 1
        for index in range(SLOTS):
            if self._slot_ids[index] != -1 and self._slot_ids[index] < oldest:
                self.count -= self._counts[index]
                self.errors -= self._errors[index]
                hist = self._hist[index]
                for b in range(_BINS):
                    self._total_hist[b] -= hist[b]
                    hist[b] = 0
                self._counts[index] = self._errors[index] = 0
                self._slot_ids[index] = -1

    def add(self, latency_ms: float, error: bool) -> None:
        index = self._slot(self._clock())
        b = _bin_of(latency_ms)
        self._counts[index] += 1
        self._hist[index][b] += 1
        self._total_hist[b] += 1
        self.count += 1
        if error:
            self._errors[index] += 1
            self.errors += 1

    def refresh(self) -> None:
        self._expire(self._clock())

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0

    def quantile_ms(self, q: float) -> float:
        if not self.count:
            return 0.0
        rank = math.ceil(q * self.count)
        seen = 0
        for index, n in enumerate(self._total_hist):
            seen += n
            if seen >= rank:
                return _bin_upper(index)
        return _bin_upper(_BINS - 1)


class Guard:
    def __init__(
        self, route_id: str, config: GuardConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.route_id = route_id
        self.config = config
        self._clock = clock
        self.window = SlidingWindow(config.window, clock)

    def reset(self) -> None:
        self.window = SlidingWindow(self.config.window, self._clock)

    def observe(self, latency_ms: float, error: bool) -> Breach | None:
        """Count one request that went to the target; a :class:`Breach` when the bound is passed."""
        window = self.window
        window.add(latency_ms, error)
        config = self.config
        if window.count < config.min_requests:
            return None
        if config.max_error_rate is not None and window.error_rate > config.max_error_rate:
            return self._breach(f"error rate {window.error_rate:.1%} > {config.max_error_rate:.1%}")
        # The histogram walk is cheap but not free: look at it every 8th request.
        if config.max_p99_ms is not None and window.count % 8 == 0:
            p99 = window.quantile_ms(0.99)
            if p99 > config.max_p99_ms:
                return self._breach(f"p99 {p99:.0f} ms > {config.max_p99_ms:g} ms")
        return None

    def _breach(self, what: str) -> Breach:
        window = self.window
        return Breach(
            self.route_id,
            f"{what} over {window.count} requests in {self.config.window:g}s",
            window.count,
            window.error_rate,
            window.quantile_ms(0.99),
        )


# -- pins ------------------------------------------------------------------------------------


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
        released = [
            route_id
            for route_id, pin in self._pins.items()
            if route_id not in fingerprints or (pin.fingerprint and fingerprints[route_id] != pin.fingerprint)
        ]
        for route_id in released:
            await self.release(route_id, why="route changed")
        return released
