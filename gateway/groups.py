"""Route groups: routes that must always be answered by the same side.

Some endpoints share state the gateway cannot see. The legacy app caches settings per process,
so if ``GET /api/settings/x`` were answered by legacy while ``PUT /api/settings/x`` went to the
new service, legacy would keep serving the old value. Routes given the same ``group:`` are
checked at load: at every instant of their rollouts they must be on the same side — legacy
(``legacy`` or ``shadow``, both answered by legacy), the target (``live``), or the same canary
percent (the same user then lands on the same side for every route of the group, since the
bucket depends only on the user).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from gateway.types import PhaseLike


def side_of(mode: str, percent: float | None) -> str:
    if mode in ("legacy", "shadow"):
        return "legacy"
    if mode == "live":
        return "target"
    return f"canary {percent or 0:g}%"


def _side_at(schedule: Sequence[PhaseLike], at: float) -> str:
    current = "legacy"
    for phase in schedule:
        if phase.start <= at:
            current = side_of(phase.mode, phase.percent)
        else:
            break
    return current


def _when(at: float) -> str:
    return "before the first phase" if math.isinf(at) else datetime.fromtimestamp(at, UTC).isoformat()


def check_groups(groups: Mapping[str, Sequence[tuple[str, Sequence[PhaseLike]]]]) -> list[tuple[str, str]]:
    """``(route_id, message)`` for each group whose members split between sides at some instant."""
    problems: list[tuple[str, str]] = []
    for name, members in groups.items():
        if len(members) < 2:
            continue
        instants = sorted({-math.inf, *(p.start for _, schedule in members for p in schedule)})
        for at in instants:
            sides = {route_id: _side_at(schedule, at) for route_id, schedule in members}
            if len(set(sides.values())) > 1:
                detail = ", ".join(f"{rid} on {side}" for rid, side in sides.items())
                problems.append(
                    (
                        members[-1][0],
                        f"group {name!r} must flip together, but from {_when(at)} it splits: {detail}",
                    )
                )
                break
    return problems
