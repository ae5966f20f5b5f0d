"""The cutover machinery's parts and their lifecycle, owned by one object the app wires in.

:class:`Cutover` holds what lives longer than a request: the pins, the circuit breakers, the one
:class:`~gateway.decide.Decider`, the per-side :class:`~gateway.record.Outcomes`, the shadow mirror
and its diffs, the reload history, the health checker and the legacy endpoint coverage. It starts
and stops them, adopts a new table on reload, and carries out the operator's pin and release. It
neither decides (:mod:`gateway.decide`), nor records (:mod:`gateway.record`), nor serves the admin
read model (:mod:`gateway.admin`), nor wires itself into the app (:mod:`gateway.app` does).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from gateway.breaker import Breakers
from gateway.canary import OverridePolicy
from gateway.compiler import CompiledRoute, CompiledTable, route_fingerprint
from gateway.coverage import LegacyCoverage
from gateway.decide import Decider, is_rollout
from gateway.gates.keeper import DEFAULT_INTERVAL, DEFAULT_SETTLE, Gatekeeper, build_evidence_store
from gateway.gates.store import EvidenceStore, Opened
from gateway.health import HealthChecker
from gateway.history import ChangeHistory, snapshot_table
from gateway.legacy_traffic import FILE_NAME, LegacyLastSeen
from gateway.pins.sharing import PinSharing, build_pin_store
from gateway.pins.store import JsonFilePinStore, MemoryPinStore, Pins, PinStore
from gateway.record import Outcomes
from gateway.revision_log import build_revision_store, record_loaded
from gateway.revisions import RevisionStore
from gateway.settings import GatewaySettings
from gateway.shadow import DiffStore, ShadowMirror
from gateway.types import Clock

SHUTDOWN_WAIT = 5.0


class Cutover:
    """Everything per route that outlives a request: decider inputs, outcomes, shadow, history."""

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        admin_token: str | None = None,
        trusted: tuple[str, ...] = (),
        state_dir: Path | None = None,
        pin_store: PinStore | None = None,
        diff_jsonl: Path | None = None,
        shadow_queue: int = 1000,
        shadow_workers: int = 4,
        health_interval: float = 5.0,
        breaker_threshold: int = 5,
        breaker_reset: float = 10.0,
        monotonic: Clock = time.monotonic,
        legacy_app: str | None = None,
        evidence_store: EvidenceStore | None = None,
        evidence_interval: float = DEFAULT_INTERVAL,
        evidence_settle: float = DEFAULT_SETTLE,
        revisions: RevisionStore | None = None,
    ) -> None:
        self.clock = clock
        self.history = ChangeHistory()
        #: Every table loaded, numbered and kept with its text (``python -m gateway history|revert``).
        self.revisions = revisions
        #: Flip evidence and the holds it lifts (``gateway.gates``): the decider reads its holds.
        self.gates = Gatekeeper(
            evidence_store if evidence_store is not None else build_evidence_store(state_dir=state_dir),
            clock=clock,
            interval=evidence_interval,
            settle=evidence_settle,
            note=self._note,
        )
        if pin_store is None:
            pin_store = (
                JsonFilePinStore(state_dir / "pins.json") if state_dir is not None else MemoryPinStore()
            )
        self.pins = Pins(pin_store)
        self.pin_sharing = PinSharing(pin_store)
        self.breakers = Breakers(
            failure_threshold=breaker_threshold, reset_after=breaker_reset, clock=monotonic
        )
        self.decider = Decider(
            pins=self.pins,
            breakers=self.breakers,
            override=OverridePolicy.build(admin_token, trusted),
            holds=self.gates.holds,
        )
        self.outcomes = Outcomes(
            pins=self.pins, breakers=self.breakers, spawn=self._spawn, monotonic=monotonic, clock=clock
        )
        self.outcomes.evidence = self.gates.canary
        #: When legacy last answered each route, kept in the state directory (the migration report).
        self.legacy_seen = LegacyLastSeen(
            state_dir / FILE_NAME if state_dir is not None else None,
            self.outcomes.legacy_last_seen,
            clock=clock,
        )
        self.diffs = DiffStore(jsonl=diff_jsonl)
        self.diffs.listeners.append(
            lambda record: self.gates.shadow(
                record.route_id, bool(record.differences), record.error is not None
            )
        )
        self.mirror = ShadowMirror(self.diffs, queue_size=shadow_queue, workers=shadow_workers)
        self.coverage = LegacyCoverage(legacy_app or None)
        self.health: HealthChecker | None = None
        self._health_interval = health_interval
        self._health_targets: dict[str, str] = {}
        self.fingerprints: dict[str, str] = {}
        self._routes: dict[str, CompiledRoute] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.started = False

    @classmethod
    def from_settings(cls, settings: GatewaySettings, *, clock: Clock = time.time) -> Cutover:
        token = settings.admin_token.get_secret_value() if settings.admin_token is not None else None
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url is not None else None
        return cls(
            clock=clock,
            admin_token=token,
            trusted=tuple(str(net) for net in settings.override_networks),
            state_dir=settings.state_dir,
            # With REDIS_URL every worker and replica shares the pins (gateway.pins.sharing).
            pin_store=(
                build_pin_store(redis_url=redis_url, prefix=settings.state_prefix) if redis_url else None
            ),
            # Flip evidence: Redis when configured (every replica), else the state directory.
            evidence_store=build_evidence_store(
                redis_url=redis_url, state_dir=settings.state_dir, prefix=settings.state_prefix
            ),
            evidence_interval=settings.evidence_interval,
            evidence_settle=settings.evidence_settle,
            diff_jsonl=settings.diff_log,
            shadow_queue=settings.shadow_queue,
            shadow_workers=settings.shadow_workers,
            health_interval=settings.health_interval,
            breaker_threshold=settings.breaker_failures,
            breaker_reset=settings.breaker_reset,
            legacy_app=settings.legacy_app,
            revisions=build_revision_store(
                redis_url=redis_url,
                state_dir=settings.state_dir,
                prefix=settings.state_prefix,
                keep=settings.history_keep,
            ),
        )

    @property
    def fallbacks(self) -> dict[str, int]:
        return self.outcomes.fallbacks

    def route(self, route_id: str) -> CompiledRoute | None:
        return self._routes.get(route_id)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, table: CompiledTable) -> None:
        await self.pins.load()
        self._adopt(table)
        await self.pins.reconcile(self.fingerprints)
        self.history.record({}, snapshot_table(table, self.clock()), source="start", table_hash=table.sha256)
        self._keep_revision(table, "start")
        await self.gates.start(table)
        self.mirror.start()
        self._restart_health(table)
        self.pin_sharing.start(self.pins)
        await self.legacy_seen.start()
        self.started = True

    async def aclose(self) -> None:
        # Pin writes must land before the process goes (a pin survives restarts); give them a moment.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_WAIT)
        for task in list(self._tasks):
            task.cancel()
        if self.health is not None:
            await self.health.aclose()
            self.health = None
        self.coverage.cancel()
        await self.mirror.aclose()
        await self.gates.aclose()
        await self.pin_sharing.aclose()
        await self.legacy_seen.aclose()
        if self.revisions is not None:
            self.revisions.close()

    def _adopt(self, table: CompiledTable) -> None:
        self._routes = {route.id: route for route in table.routes}
        self.fingerprints = {route.id: route_fingerprint(route) for route in table.routes}
        self.outcomes.adopt(self._routes, self.fingerprints)
        for name in table.upstreams:
            self.breakers.get(name)
        self.diffs.forget(set(self._routes))

    def _restart_health(self, table: CompiledTable) -> None:
        targets = {
            name: f"{upstream.url}{upstream.health}"
            for name, upstream in table.upstreams.items()
            if upstream.health is not None
        }
        if targets == self._health_targets and self.health is not None:
            return
        old = self.health
        if old is not None:
            self._spawn(old.aclose())
        self._health_targets = targets
        self.health = (
            HealthChecker(targets, self.breakers, interval=self._health_interval) if targets else None
        )
        if self.health is not None:
            self.health.start()

    async def settle(self) -> None:
        """Wait for the background work started so far (pin writes, old health checkers)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def on_swap(self, old: CompiledTable, new: CompiledTable, source: str = "reload") -> None:
        """Reload listener (sync, called on the event loop): history, tripwires, pins, health."""
        now = self.clock()
        self.history.record(
            snapshot_table(old, now), snapshot_table(new, now), source=source, table_hash=new.sha256
        )
        self._keep_revision(new, source)
        self._adopt(new)
        self.gates.adopt(new)
        self._spawn(self.pins.reconcile(self.fingerprints))
        self._restart_health(new)

    def _keep_revision(self, table: CompiledTable, source: str) -> None:
        """The loaded table as a numbered revision, written in a thread (file lock or Redis)."""
        if self.revisions is not None:
            self._spawn(asyncio.to_thread(record_loaded, self.revisions, table, source))

    def on_reload_failed(self, source: str, error: str) -> None:
        self.history.record_failure(source=source, error=error)

    # -- operator actions (admin API) -----------------------------------------------------------

    async def pin(self, route_id: str, reason: str) -> bool:
        """Pin a rolled-out route to its legacy side; False when there is no such route."""
        route = self._routes.get(route_id)
        if route is None:
            return False
        if not is_rollout(route):
            raise ValueError(f"route {route_id!r} is a plain `to` route: no legacy side to pin back to")
        await self.pins.pin(route_id, reason, fingerprint=self.fingerprints.get(route_id, ""), by="operator")
        return True

    async def release(self, route_id: str) -> bool:
        released = await self.pins.release(route_id)
        self.outcomes.reset_tripwire(route_id)
        return released

    async def release_hold(self, route_id: str, *, by: str, reason: str) -> list[Opened]:
        """Let a held route enter its calendar phase now (recorded, with who and why); [] if not held."""
        return await self.gates.release(route_id, by=by, reason=reason)

    def _note(self, kind: str, route_id: str, detail: str) -> None:
        self.history.note(source="gates", kind=kind, route_id=route_id, detail=detail)

    def upstream_state(self) -> dict[str, dict[str, Any]]:
        health = self.health.snapshot() if self.health is not None else {}
        return {
            name: {"breaker": breaker.snapshot(), "health": health.get(name)}
            for name, breaker in self.breakers.all().items()
        }
