"""Windowed figures of the read model: per side shares, error rates and the route's share."""

from __future__ import annotations

import pytest

from gateway.admin.windows import route_chart, route_windows, window_totals
from gateway.breaker import Breakers
from gateway.pins.store import MemoryPinStore, Pins
from gateway.record import Outcomes, SideStats

T0 = 1_800_000_000.0


def _outcomes() -> Outcomes:
    return Outcomes(
        pins=Pins(MemoryPinStore()), breakers=Breakers(), spawn=lambda c: c.close(), clock=lambda: T0
    )


def _feed(outcomes: Outcomes, route: str, side: str, n: int, *, errors: int = 0, ago: float = 0) -> None:
    stats = outcomes.stats.setdefault((route, side), SideStats(lambda: 0.0))
    for i in range(n):
        stats.add(4.0, i < errors, T0 - ago)


def test_side_shares_and_route_share_per_window() -> None:
    outcomes = _outcomes()
    _feed(outcomes, "canary", "legacy", 9)
    _feed(outcomes, "canary", "target", 1, errors=1)
    _feed(outcomes, "canary", "legacy", 10, ago=1200)  # 20 minutes ago: only in the hour
    _feed(outcomes, "other", "legacy", 10)
    totals = window_totals(outcomes, T0)
    assert totals == {"5m": 20, "1h": 30}
    windows = route_windows(outcomes, "canary", T0, totals)
    five, hour = windows["5m"], windows["1h"]
    assert five["requests"] == 10 and five["route_share"] == pytest.approx(0.5)
    assert five["sides"]["target"]["share"] == pytest.approx(0.1)
    assert five["sides"]["target"]["error_rate"] == 1.0 and five["sides"]["legacy"]["error_rate"] == 0.0
    assert hour["sides"]["legacy"]["requests"] == 19 and hour["route_share"] == pytest.approx(20 / 30)
    assert route_windows(outcomes, "unseen", T0, totals)["5m"]["sides"] == {"legacy": None, "target": None}


def test_chart_has_sixty_minutes_per_side_even_without_traffic() -> None:
    outcomes = _outcomes()
    _feed(outcomes, "r", "target", 3, errors=2)
    chart = route_chart(outcomes, "r", T0)
    assert chart["step"] == 60 and len(chart["legacy"]["requests"]) == 60
    assert sum(chart["target"]["requests"]) == 3 and sum(chart["target"]["errors"]) == 2
    assert sum(chart["legacy"]["requests"]) == 0
