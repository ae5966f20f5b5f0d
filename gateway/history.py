"""What changed between two routing tables, recorded at every reload.

The reload code turns each table into ``{route_id: RouteSnapshot}`` (the route's definition
and its mode at the reload instant) and calls :meth:`ChangeHistory.record`; the entry lists
the routes added and removed, mode changes, and other edits (path, methods, upstream,
schedule). The history is bounded and served by the admin API and the dashboard.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from gateway.compiler import CompiledTable, route_fingerprint
from gateway.rollout import phase_at

log = structlog.get_logger("gateway.history")

DEFAULT_KEEP = 200


@dataclass(frozen=True, slots=True)
class RouteSnapshot:
    id: str
    path: str
    methods: tuple[str, ...]
    upstream: str
    mode: str
    percent: float = 0.0
    fingerprint: str = ""
    """Hash of the whole route definition (schedule, guard, shadow...)."""
    evidence: str = ""
    """The key the route's flip evidence is kept under (``gateway.gates.rules``); "" when ungated."""

    def mode_label(self) -> str:
        return f"canary {self.percent:g}%" if self.mode == "canary" else self.mode


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # added | removed | mode | edited
    route_id: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "route": self.route_id, "detail": self.detail}


def diff_tables(old: Mapping[str, RouteSnapshot], new: Mapping[str, RouteSnapshot]) -> list[Change]:
    changes: list[Change] = []
    for route_id, route in new.items():
        before = old.get(route_id)
        if before is None:
            changes.append(
                Change("added", route_id, f"{route.path} [{','.join(route.methods)}] {route.mode_label()}")
            )
            continue
        mode_changed = before.mode_label() != route.mode_label()
        if mode_changed:
            changes.append(Change("mode", route_id, f"{before.mode_label()} -> {route.mode_label()}"))
        edits = [
            f"{name}: {a} -> {b}"
            for name, a, b in (
                ("path", before.path, route.path),
                ("methods", ",".join(before.methods), ",".join(route.methods)),
                ("upstream", before.upstream, route.upstream),
            )
            if a != b
        ]
        if not edits and not mode_changed and before.fingerprint != route.fingerprint:
            edits.append("definition changed")
        if edits:
            changes.append(Change("edited", route_id, "; ".join(edits)))
        if before.evidence and route.evidence and before.evidence != route.evidence:
            changes.append(
                Change(
                    "evidence",
                    route_id,
                    f"flip evidence starts again: the route's matching or sides changed "
                    f"(evidence {before.evidence} -> {route.evidence})",
                )
            )
    for route_id, route in old.items():
        if route_id not in new:
            changes.append(Change("removed", route_id, f"{route.path} was {route.mode_label()}"))
    return changes


@dataclass(frozen=True, slots=True)
class ReloadRecord:
    at: float
    ok: bool
    source: str
    table_hash: str
    changes: tuple[Change, ...] = ()
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "ok": self.ok,
            "source": self.source,
            "table_hash": self.table_hash,
            "changes": [c.as_json() for c in self.changes],
            "error": self.error,
        }


@dataclass
class ChangeHistory:
    keep: int = DEFAULT_KEEP
    _records: collections.deque[ReloadRecord] = field(init=False)

    def __post_init__(self) -> None:
        self._records = collections.deque(maxlen=self.keep)

    def record(
        self,
        old: Mapping[str, RouteSnapshot],
        new: Mapping[str, RouteSnapshot],
        *,
        source: str,
        table_hash: str,
        at: float | None = None,
    ) -> ReloadRecord:
        changes = tuple(diff_tables(old, new))
        entry = ReloadRecord(time.time() if at is None else at, True, source, table_hash, changes)
        self._records.append(entry)
        for change in changes:
            log.info(
                "reload.change", kind=change.kind, route=change.route_id, detail=change.detail, source=source
            )
        return entry

    def note(
        self, *, source: str, kind: str, route_id: str, detail: str, at: float | None = None
    ) -> ReloadRecord:
        """An event that changed a route without a reload (a gate opened, a hold released)."""
        entry = ReloadRecord(
            time.time() if at is None else at, True, source, "", (Change(kind, route_id, detail),)
        )
        self._records.append(entry)
        log.info("history.note", kind=kind, route=route_id, detail=detail, source=source)
        return entry

    def record_failure(
        self, *, source: str, error: str, table_hash: str = "", at: float | None = None
    ) -> ReloadRecord:
        entry = ReloadRecord(time.time() if at is None else at, False, source, table_hash, (), error)
        self._records.append(entry)
        return entry

    def entries(self, limit: int = 50) -> list[ReloadRecord]:
        return list(self._records)[-limit:][::-1]

    @property
    def last(self) -> ReloadRecord | None:
        return self._records[-1] if self._records else None


def snapshot_table(table: CompiledTable, at: float) -> dict[str, RouteSnapshot]:
    """Every route of ``table`` as the history compares them: definition and mode at ``at``."""
    out: dict[str, RouteSnapshot] = {}
    for route in table.routes:
        phase, _ = phase_at(route.schedule, at)
        upstream = route.target if phase.mode == "live" else route.legacy
        out[route.id] = RouteSnapshot(
            route.id,
            route.template.source,
            tuple(sorted(route.methods)) if route.methods is not None else ("*",),
            upstream,
            phase.mode,
            phase.percent or 0.0,
            route_fingerprint(route),
            route.evidence,
        )
    return out
