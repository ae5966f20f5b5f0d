"""Hot reload: validate and compile a new table off the event loop, then swap one reference.

Triggers: a change of the file on disk (watchfiles), SIGHUP, and ``POST /_gateway/api/reload``.
An invalid file never replaces the last good table; every outcome is logged (``reload.applied`` /
``reload.failed``), counted, and kept as ``last`` for the admin API. Requests hold the table object
they started with, so in-flight requests finish on their own rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.compiler import CompiledTable, TableRef
from gateway.errors import ConfigError
from gateway.loader import load_table
from gateway.metrics import GatewayMetrics
from gateway.types import Clock

#: Called with (old, new) after every successful swap; the cutover machinery records history here.
SwapListener = Callable[[CompiledTable, CompiledTable], None]
#: Called with (trigger, error text) after a reload was refused.
FailureListener = Callable[[str, str], None]
#: The symlink a kubelet swaps atomically when a mounted ConfigMap changes (atomic_writer.go).
CONFIGMAP_DATA_LINK = "..data"


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool
    trigger: str
    at: float
    sha256: str | None
    issues: tuple[str, ...] = ()
    changed: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "trigger": self.trigger,
            "at": self.at,
            "sha256": self.sha256,
            "changed": self.changed,
            "errors": list(self.issues),
        }


@dataclass
class Reloader:
    path: Path
    tables: TableRef
    metrics: GatewayMetrics
    logger: Any
    clock: Clock
    listeners: list[SwapListener] = field(default_factory=list)
    failure_listeners: list[FailureListener] = field(default_factory=list)
    last: ReloadResult | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[ReloadResult]] = field(default_factory=set)

    async def reload(self, trigger: str) -> ReloadResult:
        async with self._lock:
            old = self.tables.table
            try:
                new = await asyncio.to_thread(load_table, self.path, clock=self.clock)
            except ConfigError as exc:
                issues = tuple(str(issue) for issue in exc.issues)
                self.last = ReloadResult(False, trigger, time.time(), None, issues, changed=False)
                self.metrics.reloads.labels("failed").inc()
                self.logger.error(
                    "reload.failed",
                    trigger=trigger,
                    file=str(self.path),
                    errors=list(issues),
                    kept=old.sha256,
                )
                self._notify_failure(trigger, "\n".join(issues))
                return self.last
            changed = new.sha256 != old.sha256
            self.tables.table = new
            self.metrics.reloads.labels("applied").inc()
            self.metrics.routes.set(len(new.routes))
            self.last = ReloadResult(True, trigger, time.time(), new.sha256, changed=changed)
            self.logger.info(
                "reload.applied",
                trigger=trigger,
                file=str(self.path),
                sha256=new.sha256,
                routes=len(new.routes),
                changed=changed,
            )
            for listener in self.listeners:
                try:
                    listener(old, new)
                except Exception:
                    self.logger.exception("reload.listener_failed")
            return self.last

    def _notify_failure(self, trigger: str, error: str) -> None:
        for listener in self.failure_listeners:
            try:
                listener(trigger, error)
            except Exception:
                self.logger.exception("reload.listener_failed")

    async def watch(self) -> None:
        """Reload whenever the routing file changes (the directory is watched: editors replace files).

        The directory is the one the file is *named* in, never the one its symlinks resolve to: in a
        Kubernetes ConfigMap mount ``routing.yaml -> ..data/routing.yaml`` and the kubelet updates by
        renaming a new ``..data`` link over the old one, then deleting the directory the old link
        pointed at. Only the swap of ``..data`` says the file changed; a watch on the resolved
        directory sees it deleted once and then nothing, ever again.
        """
        from watchfiles import awatch

        target = self.path.absolute()
        directories = [target.parent]
        names = {target.name, CONFIGMAP_DATA_LINK}
        resolved = self.path.resolve()
        # A plain symlink to a file elsewhere (not a ConfigMap's hidden directory): watch there too.
        if not resolved.parent.is_relative_to(target.parent.resolve()):
            directories.append(resolved.parent)
            names.add(resolved.name)

        def only_the_table(_change: object, changed: str) -> bool:
            return Path(changed).name in names

        async for _changes in awatch(
            *directories,
            watch_filter=only_the_table,
            stop_event=self._stop,
            debounce=200,
            step=50,
            recursive=False,
        ):
            await self.reload("file")

    def stop(self) -> None:
        self._stop.set()

    def install_sighup(self) -> bool:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            return False
        return True

    def _on_sighup(self) -> None:
        task = asyncio.get_running_loop().create_task(self.reload("sighup"))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def remove_sighup(self) -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
