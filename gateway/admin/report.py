"""The migration report: per legacy endpoint, its state, the traffic legacy still answers, and
whether its Flask code can be deleted.

Rows are the legacy app's endpoints (its url_map, :mod:`gateway.coverage`) plus the routes of the
table no endpoint maps to (all routes while the endpoint list is loading or disabled). Legacy
traffic is counted per route, so endpoints that share a route share its figures (``traffic_of``),
and endpoints no route matches share the unmatched requests: they are "not migrated", never
deletable. An endpoint is deletable when it is ``live`` and legacy has not answered its route for
``idle_days`` (the last legacy answer survives restarts: :mod:`gateway.legacy_traffic`).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.params import Depends
from pydantic import BaseModel

from gateway.admin.access import PREFIX
from gateway.admin.contract import SafeHTMLResponse
from gateway.admin.readmodel import endpoint_coverage
from gateway.compiler import CompiledRoute, CompiledTable, TableRef
from gateway.cutover import Cutover
from gateway.decide import is_rollout
from gateway.rollout import phase_at
from gateway.timeseries import WINDOWS, Series

DAY = 86400.0
UNMATCHED = "default"


class ReportRow(BaseModel):
    #: The Flask rule, method and endpoint name (None for a route no legacy endpoint maps to).
    rule: str | None
    method: str | None
    endpoint: str | None
    route: str | None
    state: str
    percent: float | None
    #: Whose requests the traffic figures count: ``route:<id>`` or ``unmatched`` (no route).
    traffic_of: str
    legacy_5m: int
    legacy_1h: int
    legacy_since_start: int
    #: Share of the route's requests legacy answered in the last 5 minutes (None: no requests).
    legacy_share_5m: float | None
    last_legacy_at: str | None
    idle_days: float
    deletable: bool


class Report(BaseModel):
    at: str
    idle_days: int
    #: Since when this gateway's state directory has been counting legacy answers.
    counting_since: str | None
    endpoints: str
    rows: list[ReportRow]
    count: dict[str, int]
    deletable: int
    #: Legacy answers out of all requests, per window and since start.
    legacy_share: dict[str, float]


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _route_state(
    table: CompiledTable, route: CompiledRoute, at: float, pinned: set[str]
) -> tuple[str, float | None]:
    if not is_rollout(route):
        return ("live" if route.target != table.default else "not migrated"), None
    if route.id in pinned:
        return "pinned back", None
    phase, _ = phase_at(route.schedule, at)
    return ("not migrated" if phase.mode == "legacy" else str(phase.mode)), phase.percent


def migration_report(cutover: Cutover, table: CompiledTable, idle_days: int) -> Report:
    now = cutover.clock()
    outcomes, seen = cutover.outcomes, cutover.legacy_seen
    pinned = set(cutover.pins.all())
    since = seen.since if seen.since is not None else now
    coverage = endpoint_coverage(cutover, table)
    found: list[dict[str, Any]] = (
        list(coverage.get("endpoints", [])) if coverage.get("state") == "ready" else []
    )
    mapped = {row["route"] for row in found}
    for route in table.routes:
        if route.id not in mapped:
            state, percent = _route_state(table, route, now, pinned)
            found.append(
                {
                    "rule": None,
                    "method": None,
                    "endpoint": None,
                    "route": route.id,
                    "state": state,
                    "percent": percent,
                }
            )

    def legacy(route_id: str | None) -> tuple[int, int, int, float | None]:
        series: Series | None
        if route_id is None:
            series, total, other = outcomes.default_series, outcomes.default_requests, None
        else:
            stats, target = outcomes.side(route_id, "legacy"), outcomes.side(route_id, "target")
            series = stats.series if stats is not None else None
            total = stats.requests if stats is not None else 0
            other = target.series if target is not None else None
        counts = [
            series.window(now, seconds).requests if series is not None else 0 for seconds in WINDOWS.values()
        ]
        others = other.window(now, WINDOWS["5m"]).requests if other is not None else 0
        share = counts[0] / (counts[0] + others) if counts[0] + others else None
        return counts[0], counts[1], total, share

    rows = []
    for item in found:
        route_id = item["route"]
        last = seen.last_at(route_id or UNMATCHED)
        idle = (now - (last if last is not None else since)) / DAY
        five, hour, total, share = legacy(route_id)
        rows.append(
            ReportRow(
                rule=item["rule"],
                method=item["method"],
                endpoint=item["endpoint"],
                route=route_id,
                state=item["state"],
                percent=item["percent"],
                traffic_of=f"route:{route_id}" if route_id is not None else "unmatched",
                legacy_5m=five,
                legacy_1h=hour,
                legacy_since_start=total,
                legacy_share_5m=share,
                last_legacy_at=_iso(last),
                idle_days=max(0.0, idle),
                deletable=item["state"] == "live" and idle >= idle_days,
            )
        )
    count: dict[str, int] = {}
    for row in rows:
        count[row.state] = count.get(row.state, 0) + 1
    return Report(
        at=_iso(now) or "",
        idle_days=idle_days,
        counting_since=_iso(seen.since),
        endpoints=str(coverage.get("state", "disabled")),
        rows=rows,
        count=count,
        deletable=sum(row.deletable for row in rows),
        legacy_share=_legacy_share(cutover, now),
    )


def _legacy_share(cutover: Cutover, now: float) -> dict[str, float]:
    outcomes = cutover.outcomes
    out: dict[str, float] = {}
    for name, seconds in WINDOWS.items():
        legacy = outcomes.default_series.window(now, seconds).requests
        total = legacy
        for (_, side), stats in outcomes.stats.items():
            n = stats.series.window(now, seconds).requests
            total += n
            legacy += n if side == "legacy" else 0
        out[name] = legacy / total if total else 0.0
    legacy_total = outcomes.default_requests + sum(
        s.requests for (_, side), s in outcomes.stats.items() if side == "legacy"
    )
    everything = outcomes.default_requests + outcomes.total_requests()
    out["since_start"] = legacy_total / everything if everything else 0.0
    return out


# -- rendering -------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _row(row: ReportRow) -> str:
    key = f"{row.method} {row.rule}" if row.rule is not None else f"route {row.route}"
    name = (
        f"<b>{_e(row.method)} {_e(row.rule)}</b><br><small>{_e(row.endpoint)}</small>"
        if row.rule is not None
        else f"<b>{_e(row.route)}</b><br><small>route with no legacy endpoint</small>"
    )
    state = row.state + (f" {row.percent:g}%" if row.state == "canary" and row.percent is not None else "")
    badge = {"not migrated": "legacy", "pinned back": "pinned"}.get(row.state, row.state)
    last = "never (since counting started)" if row.last_legacy_at is None else _e(row.last_legacy_at)
    # the unmatched requests are counted together, not per endpoint: say so
    shared = (
        ""
        if row.rule is None or row.traffic_of != "unmatched"
        else '<br><small class="shared">all unmatched</small>'
    )
    verdict = (
        '<span class="badge live" data-delete>delete the Flask code</span>'
        if row.deletable
        else f"<small>{row.idle_days:.1f} days idle</small>"
    )
    return (
        f'<tr data-report="{_e(key)}" data-state="{_e(row.state)}" data-deletable="{int(row.deletable)}">'
        f"<td>{name}</td><td>{_e(row.route or '–')}</td>"
        f'<td><span class="badge {_e(badge)}">{_e(state)}</span></td>'
        f'<td class="num" data-legacy-5m="{row.legacy_5m}">{row.legacy_5m}'
        + (shared or f"<br><small>{_pct(row.legacy_share_5m)} of route</small>")
        + "</td>"
        f'<td class="num">{row.legacy_1h}</td><td class="num">{row.legacy_since_start}</td>'
        f"<td><small>{last}</small><br><small>{_e(row.traffic_of)}</small></td><td>{verdict}</td></tr>"
    )


def render_report(report: Report) -> str:
    rows = "".join(_row(row) for row in report.rows)
    counts = " · ".join(f"{_e(state)} <b>{n}</b>" for state, n in sorted(report.count.items()))
    share = report.legacy_share
    note = (
        "" if report.endpoints == "ready" else f" <small>(legacy endpoints: {_e(report.endpoints)})</small>"
    )
    return (
        f"<p data-report-summary>{len(report.rows)} rows{note}: {counts} · "
        f"<b data-deletable-count>{report.deletable}</b> whose Flask code can be deleted "
        f"(live, no legacy request for {report.idle_days} days) · legacy answered "
        f"{_pct(share.get('5m'))} of requests in 5 min, {_pct(share.get('1h'))} in the hour, "
        f"{_pct(share.get('since_start'))} since start · "
        f"counting since {_e(report.counting_since or '–')}</p>"
        '<table class="report"><thead><tr><th>legacy endpoint</th><th>route</th><th>state</th>'
        "<th>legacy 5 min</th><th>legacy 1 h</th><th>legacy since start</th><th>last legacy request</th>"
        f"<th>verdict</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def build_router(cutover: Cutover, tables: TableRef, admin: Depends, default_idle_days: int) -> APIRouter:
    router = APIRouter(tags=["cutover"])
    idle_q = Query(None, ge=1, le=3650, description="days without legacy traffic before code is deletable")

    @router.get(f"{PREFIX}/api/report", dependencies=[admin], response_model=Report)
    async def report(idle_days: int | None = idle_q) -> Report:
        """Per legacy endpoint: state, legacy traffic (5 min, 1 h, since start), last legacy request,
        and whether its Flask code can be deleted."""
        return migration_report(cutover, tables.table, idle_days or default_idle_days)

    @router.get(f"{PREFIX}/api/report/board", dependencies=[admin], response_class=SafeHTMLResponse)
    async def report_board(idle_days: int | None = idle_q) -> SafeHTMLResponse:
        """The migration report as an HTML fragment (the dashboard's)."""
        return SafeHTMLResponse(
            render_report(migration_report(cutover, tables.table, idle_days or default_idle_days))
        )

    return router
