"""Holds: for each route whose calendar has passed a gate that is not open, the phase it stays in.

:class:`Holds` is what the decider reads on every request: ``by_route`` maps a route id to
``{calendar phase start: Hold}`` and is rebuilt (and swapped whole) only when a gate opens, a
table is adopted or an operator releases; a route without holds costs one dict lookup. A gate
opened by evidence opens at an instant a moment ahead (``Opened.open_at``) so that every replica,
each reading the shared store on its own beat, flips at the same instant: until then the hold
stands, with ``until`` set and ``after`` saying what holds next.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.gates.evidence import judge
from gateway.gates.rules import Gate
from gateway.gates.store import Opened, Recorded
from gateway.rollout import BEFORE_ROLLOUT, PhaseSpec
from gateway.types import Clock, PhaseLike


@dataclass(frozen=True, slots=True, eq=False)
class Hold:
    """The route is in calendar phase ``calendar`` but served in ``serving``: ``gate`` is closed."""

    route_id: str
    calendar: PhaseSpec
    serving: PhaseSpec
    gate: Gate
    #: The gate opens at this instant (already decided); ``inf`` while its evidence is missing.
    until: float = math.inf
    #: What holds once ``until`` has passed (a later gate still closed), if anything.
    after: Hold | None = None


@dataclass(frozen=True, slots=True)
class GatedRoute:
    """What the holds of one route are built from."""

    route_id: str
    fingerprint: str
    schedule: tuple[PhaseSpec, ...]
    gates: tuple[Gate, ...]


#: Seconds an opening stays in the map as a hold that has ended (``until`` passed): a question about
#: an instant just before it (explain ``--at``, a replica a moment behind) still gets the held answer.
RECENT = 60.0


def route_holds(route: GatedRoute, opened: Mapping[str, Opened], now: float) -> dict[float, Hold]:
    """``{calendar phase start: Hold}`` for every phase of ``route`` that is held at ``now``."""
    out: dict[float, Hold] = {}
    for index, calendar in enumerate(route.schedule):
        pending: list[tuple[Gate, float]] = []
        for gate in route.gates:  # in phase order
            if gate.index > index:
                break
            found = opened.get(gate.label)
            if found is not None and found.open_at <= now - RECENT:
                continue
            pending.append((gate, found.open_at if found is not None else math.inf))
            if found is None:
                break  # a closed gate: later gates cannot matter yet
        hold: Hold | None = None
        for gate, until in reversed(pending):
            serving = route.schedule[gate.index - 1] if gate.index else BEFORE_ROLLOUT
            hold = Hold(route.route_id, calendar, serving, gate, until, hold)
        if hold is not None:
            out[calendar.start] = hold
    return out


@dataclass
class Holds:
    """The holds now, read by the decider; rebuilt by :class:`gateway.gates.keeper.Gatekeeper`."""

    clock: Clock = time.time
    by_route: dict[str, dict[float, Hold]] = field(default_factory=dict)
    routes: dict[str, GatedRoute] = field(default_factory=dict)
    recorded: dict[str, Recorded] = field(default_factory=dict)

    def rebuild(self, routes: Mapping[str, GatedRoute], recorded: Mapping[str, Recorded], now: float) -> None:
        self.routes = dict(routes)
        self.recorded = dict(recorded)
        by_route: dict[str, dict[float, Hold]] = {}
        for route_id, route in routes.items():
            rec = recorded.get(route_id)
            holds = route_holds(route, rec.opened if rec is not None else {}, now)
            if holds:
                by_route[route_id] = holds
        self.by_route = by_route  # one store: a request sees the old map or the new one

    def hold(self, route_id: str, phase: PhaseLike, now: float | None = None) -> Hold | None:
        """The hold on ``route_id`` in calendar ``phase`` at ``now`` (the decider's question)."""
        held = self.by_route.get(route_id)
        if held is None:
            return None
        hold = held.get(phase.start)
        if hold is not None and hold.until != math.inf:
            now = self.clock() if now is None else now
            while hold is not None and now >= hold.until:
                hold = hold.after
        return hold

    def describe(self, hold: Hold) -> dict[str, Any]:
        """The hold as explain, the admin API and the dashboard show it: why and what is missing."""
        rec = self.recorded.get(hold.route_id)
        verdict = judge(hold.gate, rec.counts if rec is not None else {})
        opening = "" if hold.until == math.inf else " (its evidence is in: it opens at the instant below)"
        return {
            "held": True,
            "calendar": _label(hold.calendar),
            "serving": _label(hold.serving),
            "gate": hold.gate.label,
            "since": hold.gate.start,
            "why": f"the {hold.gate.label} phase waits for evidence{opening}",
            "requires": hold.gate.describe(),
            "defaulted": hold.gate.defaulted,
            "missing": verdict.missing,
            "evidence": verdict.summary,
            "opens_at": None if hold.until == math.inf else hold.until,
        }


def _label(phase: PhaseLike) -> str:
    return f"canary {phase.percent or 0:g}%" if phase.mode == "canary" else phase.mode
