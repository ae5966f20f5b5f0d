"""The rollout calendar: week by week, which routes change mode (``python -m gateway plan``).

Works on compiled phases (start as epoch seconds, mode, percent), so it shows exactly the
instants the gateway will flip at, in the table's timezone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.types import PhaseLike


def describe(mode: str, percent: float | None) -> str:
    return f"canary {percent or 0:g}%" if mode == "canary" else mode


@dataclass(frozen=True, slots=True)
class Flip:
    at: dt.datetime
    route_id: str
    before: str
    after: str
    mode: str
    percent: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "route": self.route_id,
            "from": self.before,
            "to": self.after,
            "mode": self.mode,
            "percent": self.percent,
        }


@dataclass(frozen=True, slots=True)
class CalendarWeek:
    """One ISO week in which at least one route changes mode."""

    week: str
    flips: tuple[Flip, ...]

    def as_json(self) -> dict[str, Any]:
        return {"week": self.week, "flips": [f.as_json() for f in self.flips]}


def iso_week_label(instant: dt.datetime) -> str:
    year, week, _ = instant.isocalendar()
    return f"{year}-W{week:02d}"


def build_calendar(schedules: Mapping[str, Sequence[PhaseLike]], tz: dt.tzinfo) -> list[CalendarWeek]:
    """Every flip of every route, grouped by ISO week (in ``tz``), in time order."""
    events: list[tuple[float, str, str, str, str, float | None]] = []
    for route_id, phases in schedules.items():
        before = "legacy"
        for phase in phases:
            after = describe(phase.mode, phase.percent)
            if after != before:
                events.append((phase.start, route_id, before, after, phase.mode, phase.percent))
            before = after
    events.sort(key=lambda item: (item[0], item[1]))
    weeks: dict[str, list[Flip]] = {}
    for start, route_id, before, after, mode, percent in events:
        local = dt.datetime.fromtimestamp(start, tz)
        weeks.setdefault(iso_week_label(local), []).append(
            Flip(local, route_id, before, after, mode, percent)
        )
    return [CalendarWeek(week, tuple(flips)) for week, flips in weeks.items()]


def format_calendar(
    weeks: Sequence[CalendarWeek], notes: Mapping[tuple[str, float], str] | None = None
) -> str:
    """The calendar as text; ``notes`` (route id, flip instant) -> the flip's gate (``gateway.gates``)."""
    if not weeks:
        return "no route has a rollout: nothing changes by the calendar\n"
    lines: list[str] = []
    for week in weeks:
        lines.append(week.week)
        for flip in week.flips:
            stamp = flip.at.strftime("%a %Y-%m-%d %H:%M")
            note = (notes or {}).get((flip.route_id, flip.at.timestamp()))
            suffix = f"  [{note}]" if note else ""
            lines.append(f"  {stamp}  {flip.route_id}: {flip.before} -> {flip.after}{suffix}")
    return "\n".join(lines) + "\n"
