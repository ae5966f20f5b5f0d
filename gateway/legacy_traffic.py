"""When legacy last answered each route, kept across restarts: the migration report's evidence that
a Flask endpoint gets no more traffic and its code can be deleted.

Nothing happens per request here: the per-side series (:mod:`gateway.timeseries`) already note the
time of their last request. Every ``interval`` seconds :meth:`LegacyLastSeen.sync` reads those
(``source``), keeps the latest per route (``"default"``: requests no route matched) and, when one
moved, writes ``legacy-traffic.json`` in the state directory (temporary file + rename, under a lock,
merged with what is there, so several gateway processes on one host keep the latest of them all).
``since`` is when this state directory started counting: an endpoint with no legacy request ever
is only idle for as long as anyone has been looking.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import structlog

from gateway.types import Clock

log = structlog.get_logger("gateway.legacy_traffic")

FILE_NAME = "legacy-traffic.json"
DEFAULT_INTERVAL = 30.0

Source = Callable[[], Mapping[str, float | None]]


class LegacyLastSeen:
    def __init__(
        self,
        path: Path | None,
        source: Source,
        *,
        clock: Clock = time.time,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.path = path
        self._source = source
        self._clock = clock
        self._interval = interval
        #: Route id -> wall-clock time of its last legacy answer (this process's and the file's).
        self.last: dict[str, float] = {}
        self.since: float | None = None
        self._dirty = False
        self._task: asyncio.Task[None] | None = None

    def merge(self, found: Mapping[str, float | None]) -> None:
        for key, at in found.items():
            if at is not None and at > self.last.get(key, 0.0):
                self.last[key] = at
                self._dirty = True

    def last_at(self, route_id: str) -> float | None:
        """The route's last legacy answer: what this process counts now, else what was persisted."""
        now = self._source().get(route_id)
        kept = self.last.get(route_id)
        if now is None:
            return kept
        return now if kept is None else max(now, kept)

    # -- persistence ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self.path is not None:
            await asyncio.to_thread(self._exchange, False)
        if self.since is None:
            self.since = self._clock()
            self._dirty = self.path is not None
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sync()
            except Exception as exc:  # a full disk must not stop the counting; the next round retries
                log.warning("legacy_traffic.write_failed", path=str(self.path), error=repr(exc))

    async def sync(self) -> None:
        """Take the series' latest times and write them out when something moved."""
        self.merge(self._source())
        if self._dirty and self.path is not None:
            await asyncio.to_thread(self._exchange, True)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.since is not None:  # started: write the last round out before the process goes
            with contextlib.suppress(OSError):
                await self.sync()

    def _exchange(self, write: bool) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                stored = _read(self.path)
                since = stored.get("since")
                if isinstance(since, int | float) and (self.since is None or since < self.since):
                    self.since = float(since)
                routes = stored.get("routes")
                if isinstance(routes, dict):
                    self.merge({str(k): v for k, v in routes.items() if isinstance(v, int | float)})
                if write:
                    self._write({"since": self.since, "routes": dict(sorted(self.last.items()))})
                    self._dirty = False
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, data: dict[str, Any]) -> None:
        assert self.path is not None
        fd, tmp = tempfile.mkstemp(prefix=".legacy-traffic-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
