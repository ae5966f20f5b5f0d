"""Where flip evidence lives: counts and opened gates, per route and evidence fingerprint.

Every store adds counts up (several processes add to the same totals) and opens a gate only if
no one opened it before (:meth:`EvidenceStore.open` returns the opening that stands), so that every
process and replica flips at the same instant. :class:`MemoryEvidenceStore` serves one process
(tests); :class:`FileEvidenceStore` keeps one JSON file in the state directory, shared by the
workers of one host under an ``flock``; :mod:`gateway.gates.redis_store` is shared by every replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gateway.gates.evidence import Counts

RouteKey = tuple[str, str]
"""(route id, evidence fingerprint)."""


@dataclass(frozen=True, slots=True)
class Opened:
    """A gate opened by its evidence or by an operator's release: the route may enter its phase."""

    label: str
    at: float
    #: Every process flips at this instant (a moment after ``at``, so all of them have seen it).
    open_at: float
    #: ``evidence``, or the operator who released the hold.
    by: str
    reason: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Opened:
        return cls(
            str(data["label"]),
            float(data["at"]),
            float(data["open_at"]),
            str(data["by"]),
            str(data.get("reason", "")),
        )


@dataclass(slots=True)
class Recorded:
    counts: Counts = field(default_factory=dict)
    opened: dict[str, Opened] = field(default_factory=dict)


class EvidenceStore(Protocol):
    async def exchange(
        self, deltas: Mapping[RouteKey, Counts], keys: Collection[RouteKey]
    ) -> dict[RouteKey, Recorded]:
        """Add ``deltas`` to the totals, then read the totals and opened gates of ``keys``."""
        ...

    async def open(self, key: RouteKey, opened: Opened, *, replace: bool = False) -> Opened:
        """Open a gate unless it is open already (``replace``: in any case); the opening that stands."""
        ...

    async def aclose(self) -> None: ...


class MemoryEvidenceStore:
    def __init__(self) -> None:
        self.routes: dict[RouteKey, Recorded] = {}

    async def exchange(
        self, deltas: Mapping[RouteKey, Counts], keys: Collection[RouteKey]
    ) -> dict[RouteKey, Recorded]:
        return _exchange(self.routes, deltas, keys)

    async def open(self, key: RouteKey, opened: Opened, *, replace: bool = False) -> Opened:
        return _open(self.routes, key, opened, replace)

    async def aclose(self) -> None:
        return None


def _exchange(
    routes: dict[RouteKey, Recorded], deltas: Mapping[RouteKey, Counts], keys: Collection[RouteKey]
) -> dict[RouteKey, Recorded]:
    for key, delta in deltas.items():
        counts = routes.setdefault(key, Recorded()).counts
        for name, value in delta.items():
            counts[name] = counts.get(name, 0) + value
    return {
        key: Recorded(dict(routes[key].counts), dict(routes[key].opened)) for key in keys if key in routes
    }


def _open(routes: dict[RouteKey, Recorded], key: RouteKey, opened: Opened, replace: bool) -> Opened:
    gates = routes.setdefault(key, Recorded()).opened
    if replace:
        gates[opened.label] = opened
    return gates.setdefault(opened.label, opened)


class FileEvidenceStore:
    """One JSON file, read and replaced (temp file + rename) under an exclusive ``flock``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[RouteKey, Recorded]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                routes = self._read()
                before = json.dumps(self._dump(routes), sort_keys=True)
                yield routes
                if json.dumps(self._dump(routes), sort_keys=True) != before:
                    self._write(routes)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict[RouteKey, Recorded]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        routes: dict[RouteKey, Recorded] = {}
        for item in data.get("routes", []):
            opened = {label: Opened.from_json(o) for label, o in item.get("opened", {}).items()}
            routes[(item["route"], item["fingerprint"])] = Recorded(dict(item.get("counts", {})), opened)
        return routes

    @staticmethod
    def _dump(routes: Mapping[RouteKey, Recorded]) -> dict[str, Any]:
        return {
            "routes": [
                {
                    "route": route_id,
                    "fingerprint": fingerprint,
                    "counts": rec.counts,
                    "opened": {label: o.as_json() for label, o in rec.opened.items()},
                }
                for (route_id, fingerprint), rec in sorted(routes.items())
            ]
        }

    def _write(self, routes: Mapping[RouteKey, Recorded]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".evidence-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._dump(routes), handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _exchange_sync(
        self, deltas: Mapping[RouteKey, Counts], keys: Collection[RouteKey]
    ) -> dict[RouteKey, Recorded]:
        if not deltas:  # the file is replaced whole (rename): a read needs no lock, and writes nothing
            return _exchange(self._read(), {}, keys)
        with self._locked() as routes:
            return _exchange(routes, deltas, keys)

    def _open_sync(self, key: RouteKey, opened: Opened, replace: bool) -> Opened:
        with self._locked() as routes:
            return _open(routes, key, opened, replace)

    async def exchange(
        self, deltas: Mapping[RouteKey, Counts], keys: Collection[RouteKey]
    ) -> dict[RouteKey, Recorded]:
        return await asyncio.to_thread(self._exchange_sync, deltas, keys)

    async def open(self, key: RouteKey, opened: Opened, *, replace: bool = False) -> Opened:
        return await asyncio.to_thread(self._open_sync, key, opened, replace)

    async def aclose(self) -> None:
        return None
