"""Rollout phases: when each route changes mode.

The compiler resolves every phase's ``from`` to an instant (epoch seconds) once, so a request never
parses a date. ``PhaseBoard`` caches each route's current phase together with the instant of the next
flip anywhere in the table and re-evaluates only when the injected clock passes it.

Which side a request goes to in a phase is :mod:`gateway.decide`'s business.
"""

from __future__ import annotations

import bisect
import math
import time
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo

from gateway.routing_schema import Mode, Phase
from gateway.types import Clock

system_clock: Clock = time.time

NEVER = math.inf


@dataclass(frozen=True, slots=True)
class PhaseSpec:
    """One compiled rollout phase: from ``start`` (epoch seconds) on, ``mode`` applies."""

    start: float
    mode: Mode
    percent: float | None = None


#: Before its first phase a rolled-out route is on legacy.
BEFORE_ROLLOUT = PhaseSpec(-NEVER, "legacy")
ALWAYS_LIVE = PhaseSpec(-NEVER, "live")


def phase_instant(start: str | date | datetime, zone: ZoneInfo) -> float:
    """ISO week: Monday 00:00 in ``zone``; a naive date-time is read in ``zone``; an aware one as given."""
    if isinstance(start, str):  # only ISO weeks survive validation as strings
        year, week = start.split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
        return datetime.combine(monday, dtime(0), tzinfo=zone).timestamp()
    if isinstance(start, datetime):
        aware = start if start.tzinfo is not None else start.replace(tzinfo=zone)
        return aware.timestamp()
    return datetime.combine(start, dtime(0), tzinfo=zone).timestamp()


def compile_phases(phases: tuple[Phase, ...], zone: ZoneInfo) -> tuple[PhaseSpec, ...]:
    return tuple(PhaseSpec(phase_instant(p.start, zone), p.mode, p.percent) for p in phases)


def phase_at(schedule: tuple[PhaseSpec, ...], now: float) -> tuple[PhaseSpec, float]:
    """The phase in force at ``now`` and the instant of the route's next flip (``inf`` if none)."""
    starts = [phase.start for phase in schedule]
    index = bisect.bisect_right(starts, now) - 1
    current = schedule[index] if index >= 0 else BEFORE_ROLLOUT
    following = starts[index + 1] if index + 1 < len(starts) else NEVER
    return current, following


class PhaseBoard:
    """Current phase of every route of one table, recomputed only when the next flip passes."""

    __slots__ = ("_clock", "_next_flip", "_phases", "_schedules")

    def __init__(self, schedules: tuple[tuple[PhaseSpec, ...], ...], clock: Clock) -> None:
        self._schedules = schedules
        self._clock = clock
        self._phases: tuple[PhaseSpec, ...] = ()
        self._next_flip = -NEVER

    def now(self) -> float:
        return self._clock()

    @property
    def next_flip(self) -> float:
        self.refresh()
        return self._next_flip

    def refresh(self, now: float | None = None) -> float:
        now = self._clock() if now is None else now
        if now >= self._next_flip:
            phases: list[PhaseSpec] = []
            next_flip = NEVER
            for schedule in self._schedules:
                current, following = phase_at(schedule, now)
                phases.append(current)
                next_flip = min(next_flip, following)
            self._phases, self._next_flip = tuple(phases), next_flip
        return now

    def current(self, index: int) -> PhaseSpec:
        if self._clock() >= self._next_flip:
            self.refresh()
        return self._phases[index]
