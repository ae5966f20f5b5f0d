"""The gatekeeper: counts evidence in batches, opens gates when it is in, and releases holds.

The request path only adds to in-memory counters (:meth:`Gatekeeper.canary`, and
:meth:`Gatekeeper.shadow` from the diff store). Every ``interval`` seconds :meth:`Gatekeeper.sync`
sends the batch to the store (every process adds to the same totals), reads the totals back,
opens each due gate whose evidence is in (``open_at`` = now + ``settle``, the same instant for every
replica since the first opening stands) and rebuilds :class:`~gateway.gates.holds.Holds` when an
opening changed something. No I/O ever happens per request, and no reload is needed to flip.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog

from gateway.compiler import CompiledTable
from gateway.gates.evidence import BINS, COMPARED, DIFFERING, SHADOW_ERRORS, Counts, bin_of, judge, side_key
from gateway.gates.holds import RECENT, GatedRoute, Hold, Holds
from gateway.gates.redis_store import RedisEvidenceStore
from gateway.gates.store import (
    EvidenceStore,
    FileEvidenceStore,
    MemoryEvidenceStore,
    Opened,
    Recorded,
    RouteKey,
)
from gateway.rollout import phase_at
from gateway.types import Clock

log = structlog.get_logger("gateway.gates")

#: Seconds between two exchanges with the store (counts out, totals and openings in).
DEFAULT_INTERVAL = 0.5
#: An opening takes effect this long after it is decided, so every replica (each syncing every
#: ``interval``) has read it by then and they all flip at the same instant.
DEFAULT_SETTLE = 2.0

#: (kind, route id, detail): the keeper's notes for the reload history.
Note = Callable[[str, str, str], None]

_SIDE_KEYS = {
    side: (
        side_key(side, "requests"),
        side_key(side, "errors"),
        [side_key(side, f"h{i}") for i in range(BINS)],
    )
    for side in ("target", "legacy")
}


def build_evidence_store(
    *, redis_url: str | None = None, state_dir: Path | None = None, prefix: str = "figway"
) -> EvidenceStore:
    if redis_url:
        return RedisEvidenceStore(redis_url, prefix=prefix)
    if state_dir is not None:
        return FileEvidenceStore(state_dir / "evidence.json")
    return MemoryEvidenceStore()


class Gatekeeper:
    def __init__(
        self,
        store: EvidenceStore | None = None,
        *,
        clock: Clock = time.time,
        interval: float = DEFAULT_INTERVAL,
        settle: float = DEFAULT_SETTLE,
        note: Note | None = None,
    ) -> None:
        self.store = store or MemoryEvidenceStore()
        self.clock = clock
        self.holds = Holds(clock=clock)
        self.interval = interval
        self.settle = settle
        self._note = note
        self._routes: dict[str, GatedRoute] = {}
        self._recorded: dict[str, Recorded] = {}
        self._deltas: dict[str, Counts] = {}
        self._seen: set[tuple[str, str, str]] = set()
        self._signature: Any = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._last_error = -math.inf

    # -- the request path: counters only -----------------------------------------------------

    def canary(self, route_id: str, side: str, latency_ms: float, error: bool) -> None:
        """One canary request answered by ``side`` (``target`` or ``legacy``)."""
        if route_id not in self._routes:
            return
        counts = self._deltas.get(route_id)
        if counts is None:
            counts = self._deltas[route_id] = {}
        requests, errors, bins = _SIDE_KEYS[side]
        counts[requests] = counts.get(requests, 0) + 1
        if error:
            counts[errors] = counts.get(errors, 0) + 1
        name = bins[bin_of(latency_ms)]
        counts[name] = counts.get(name, 0) + 1

    def shadow(self, route_id: str, differing: bool, error: bool) -> None:
        """One mirrored request compared (or failed) by the shadow diff."""
        if route_id not in self._routes:
            return
        counts = self._deltas.setdefault(route_id, {})
        if error:
            counts[SHADOW_ERRORS] = counts.get(SHADOW_ERRORS, 0) + 1
            return
        counts[COMPARED] = counts.get(COMPARED, 0) + 1
        if differing:
            counts[DIFFERING] = counts.get(DIFFERING, 0) + 1

    # -- lifecycle ---------------------------------------------------------------------------

    def adopt(self, table: CompiledTable) -> list[str]:
        """A new table: its gated routes; the routes whose evidence starts again (fingerprint changed)."""
        routes = {
            route.id: GatedRoute(route.id, route.evidence, route.schedule, route.gates)
            for route in table.routes
            if route.gates
        }
        reset = [
            rid
            for rid, route in routes.items()
            if rid in self._routes and self._routes[rid].fingerprint != route.fingerprint
        ]
        for route_id in reset:
            self._deltas.pop(route_id, None)
            self._recorded.pop(route_id, None)
            log.warning("gates.evidence_reset", route=route_id, fingerprint=routes[route_id].fingerprint)
        self._deltas = {rid: c for rid, c in self._deltas.items() if rid in routes}
        self._recorded = {rid: r for rid, r in self._recorded.items() if rid in routes}
        self._routes = routes
        self._rebuild(force=True)
        return reset

    async def start(self, table: CompiledTable) -> None:
        self.adopt(table)
        try:
            await self.sync()
        except Exception as exc:  # an unreadable store never stops the gateway: routes stay held
            log.error("gates.store_unavailable", error=repr(exc))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="gates.sync")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sync()
            except Exception as exc:  # a store hiccup must not stop the beat (logged once a minute)
                now = time.monotonic()
                if now - self._last_error >= 60:
                    self._last_error = now
                    log.error("gates.sync_failed", error=repr(exc))

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.sync()  # the last batch of counts
        await self.store.aclose()

    # -- the beat ----------------------------------------------------------------------------

    async def sync(self) -> None:
        async with self._lock:
            deltas, self._deltas = self._deltas, {}
            routes = self._routes
            keyed: dict[RouteKey, Counts] = {
                (rid, routes[rid].fingerprint): counts for rid, counts in deltas.items() if rid in routes
            }
            keys = [(rid, route.fingerprint) for rid, route in routes.items()]
            if not keys:
                return
            read = await self.store.exchange(keyed, keys)
            if not read and keys:
                return  # the store is unavailable: keep what we knew
            recorded = {rid: read.get((rid, fp), Recorded()) for rid, fp in keys}
            now = self.clock()
            for rid, route in routes.items():
                await self._open_due(route, recorded[rid], now)
            if self._routes is not routes:
                # A table was adopted while the store answered: what was read belongs to the old
                # routes (an opening under a route's old fingerprint must not lift the new hold).
                # The next beat reads the new keys.
                return
            self._recorded = recorded
            self._rebuild()

    async def _open_due(self, route: GatedRoute, recorded: Recorded, now: float) -> None:
        for gate in route.gates:
            if gate.label in recorded.opened:
                continue
            verdict = judge(gate, recorded.counts)
            if gate.start > now or not verdict.met:
                return  # gates open in phase order
            opened = Opened(gate.label, now, now + self.settle, "evidence", verdict.summary)
            recorded.opened[gate.label] = await self.store.open((route.route_id, route.fingerprint), opened)

    def _rebuild(self, *, force: bool = False) -> None:
        now = self.clock()
        signature = tuple(
            sorted(
                (rid, label, opened.open_at <= now - RECENT, opened.open_at)
                for rid, rec in self._recorded.items()
                for label, opened in rec.opened.items()
            )
        )
        self.holds.recorded = dict(self._recorded)
        for rid, rec in self._recorded.items():
            for label, opened in rec.opened.items():
                if (rid, label, self._routes[rid].fingerprint) not in self._seen:
                    self._seen.add((rid, label, self._routes[rid].fingerprint))
                    self._announce(rid, opened)
        if force or signature != self._signature:
            self._signature = signature
            self.holds.rebuild(self._routes, self._recorded, now)

    def _announce(self, route_id: str, opened: Opened) -> None:
        if opened.by == "evidence":
            detail = f"{opened.label} opened on evidence: {opened.reason}"
        else:
            detail = f"{opened.label} released by {opened.by}: {opened.reason}"
        log.info("gates.opened", route=route_id, gate=opened.label, by=opened.by, reason=opened.reason)
        if self._note is not None:
            self._note("released" if opened.by != "evidence" else "flipped", route_id, detail)

    # -- operator ----------------------------------------------------------------------------

    def hold_now(self, route_id: str, now: float | None = None) -> Hold | None:
        route = self._routes.get(route_id)
        if route is None:
            return None
        now = self.clock() if now is None else now
        phase, _ = phase_at(route.schedule, now)
        return self.holds.hold(route_id, phase, now)

    async def release(self, route_id: str, *, by: str, reason: str) -> list[Opened]:
        """Open every gate holding ``route_id`` now, at once; [] when it is not held."""
        async with self._lock:
            now = self.clock()
            hold = self.hold_now(route_id, now)
            route = self._routes.get(route_id)
            if hold is None or route is None:
                return []
            recorded = self._recorded.setdefault(route_id, Recorded())
            released: list[Opened] = []
            calendar_index = max(i for i, p in enumerate(route.schedule) if p.start == hold.calendar.start)
            for gate in route.gates:
                if gate.index > calendar_index:
                    break
                current = recorded.opened.get(gate.label)
                if current is not None and current.open_at <= now:
                    continue
                opened = Opened(gate.label, now, now, by, reason)
                recorded.opened[gate.label] = opened
                # a release overrides a pending opening by evidence: it takes effect now
                await self.store.open((route_id, route.fingerprint), opened, replace=True)
                released.append(opened)
            self._rebuild(force=True)
            return released

    def held_now(self, now: float | None = None) -> list[Hold]:
        """Every route held at ``now`` (metrics, dashboard)."""
        now = self.clock() if now is None else now
        out = []
        for route_id in self.holds.by_route:
            hold = self.hold_now(route_id, now)
            if hold is not None:
                out.append(hold)
        return out
