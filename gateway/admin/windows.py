"""Windowed figures and chart series of the read model: what each route did lately, per side.

Read from the per-side :class:`~gateway.timeseries.Series` the request path fills (nothing here
runs per request). A side's ``share`` is its part of the route's requests in the window (a 10%
canary shows ~0.1 on the target); ``route_share`` is the route's part of all routed requests.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from gateway.record import Outcomes
from gateway.timeseries import WINDOWS, Series

SIDES = ("legacy", "target")
#: Chart resolution: one point a minute over the last hour.
CHART_SECONDS = 3600
CHART_STEP = 60


def _series(outcomes: Outcomes, route_id: str, side: str) -> Series | None:
    stats = outcomes.side(route_id, side)
    return stats.series if stats is not None else None


def window_totals(outcomes: Outcomes, now: float) -> dict[str, int]:
    """Requests over each window, all routes and sides together (the denominator of route shares)."""
    totals = dict.fromkeys(WINDOWS, 0)
    for stats in outcomes.stats.values():
        for name, seconds in WINDOWS.items():
            totals[name] += stats.series.window(now, seconds).requests
    return totals


def route_windows(outcomes: Outcomes, route_id: str, now: float, totals: dict[str, int]) -> dict[str, Any]:
    """``{"5m": {...}, "1h": {...}}``: per side requests, rate, errors, error rate, p99, share."""
    out: dict[str, Any] = {}
    for name, seconds in WINDOWS.items():
        sides: dict[str, Any] = {}
        for side in SIDES:
            series = _series(outcomes, route_id, side)
            sides[side] = asdict(series.window(now, seconds)) if series is not None else None
        requests = sum(s["requests"] for s in sides.values() if s is not None)
        for figures in sides.values():
            if figures is not None:
                figures["share"] = figures["requests"] / requests if requests else 0.0
        out[name] = {
            "seconds": seconds,
            "requests": requests,
            "route_share": requests / totals[name] if totals.get(name) else 0.0,
            "sides": sides,
        }
    return out


def route_chart(outcomes: Outcomes, route_id: str, now: float) -> dict[str, Any]:
    """The last hour per minute: ``start`` (epoch s), ``step`` (s), per side requests and errors."""
    chart: dict[str, Any] = {"start": None, "step": CHART_STEP}
    for side in SIDES:
        series = _series(outcomes, route_id, side) or Series()
        points = series.points(now, CHART_SECONDS, CHART_STEP)
        chart["start"] = points[0].at if points else None
        chart[side] = {"requests": [p.requests for p in points], "errors": [p.errors for p in points]}
    return chart
