"""The admin read model: typed views of the routes and the migration, built from the live parts.

The JSON API and the dashboard read the same views (the dashboard renders their JSON), so they
agree on every count. A route's side comes from the serving decider (:mod:`gateway.decide`): for
a canary route it depends on who asks, so the view says ``bucket`` and gives the split.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.admin.windows import route_chart, route_windows, window_totals
from gateway.compiler import CompiledRoute, CompiledTable
from gateway.cutover import Cutover
from gateway.decide import is_rollout
from gateway.gates.evidence import judge
from gateway.record import SideSnapshot
from gateway.rollout import NEVER, phase_at

STATES = ("legacy", "shadow", "canary", "live", "pinned")


def iso(instant: float | None) -> str | None:
    if instant is None or instant in (NEVER, -NEVER):
        return None
    return datetime.fromtimestamp(instant, UTC).isoformat()


@dataclass(frozen=True, slots=True)
class SideOf:
    """Which side the decider picks for the route now, for a request that carries no identity."""

    side: str
    #: None when the side depends on the request (a canary bucket).
    upstream: str | None
    why: str
    #: The phase the route is served in (the calendar's, or an earlier one while a gate holds it).
    mode: str = "legacy"
    percent: float | None = None
    #: Why the route is held and what is missing (``gateway.gates``), when it is.
    hold: dict[str, Any] | None = None


def side_now(cutover: Cutover, table: CompiledTable, route: CompiledRoute, at: float) -> SideOf:
    phase, _ = phase_at(route.schedule, at)
    trace: dict[str, Any] = {}
    decision = cutover.decider.decide(route, phase, {"method": "GET", "headers": ()}, trace, now=at)
    hold = trace.get("hold")
    if decision.why == "bucket":
        return SideOf("bucket", None, "bucket", decision.mode, decision.phase.percent, hold)
    return SideOf(
        str(decision.side), decision.upstream, decision.why, decision.mode, decision.phase.percent, hold
    )


@dataclass(frozen=True, slots=True)
class NextFlip:
    at: float
    mode: str
    percent: float | None


@dataclass(frozen=True, slots=True)
class GuardView:
    max_error_rate: float | None
    max_p99_ms: float | None
    min_requests: int
    window: float
    window_requests: int
    window_error_rate: float


@dataclass(frozen=True, slots=True)
class RouteState:
    """One route's state now: phase, side, pin, statistics per side, shadow diffs, guard."""

    id: str
    path: str
    methods: list[str] | None
    rollout: bool
    mode: str
    percent: float | None
    legacy: str
    target: str
    side: SideOf
    next_flip: NextFlip | None
    pinned: dict[str, Any] | None
    requests: int
    traffic_share: float
    fallbacks: int
    legacy_side: SideSnapshot | None
    target_side: SideSnapshot | None
    shadow: dict[str, Any] | None
    guard: GuardView | None
    #: The route's rate-limit policies and the requests they refused (429) in this process.
    rate_limit: list[dict[str, Any]] = field(default_factory=list)
    rate_limited: int = 0
    #: Last 5 minutes and last hour per side (``gateway.admin.windows``).
    windows: dict[str, Any] = field(default_factory=dict)
    #: Requests and errors per minute over the last hour, per side.
    chart: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["sides"] = {"legacy": out.pop("legacy_side"), "target": out.pop("target_side")}
        return out


@dataclass(frozen=True, slots=True)
class Scoreboard:
    """Routes and traffic per state: the migration's progress at a glance."""

    routes: int
    count: dict[str, int]
    traffic: dict[str, int]
    traffic_share: dict[str, float]
    live_share: float
    requests_on_target: int
    requests: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def route_states(
    cutover: Cutover, table: CompiledTable, at: float, refused: Mapping[str, int] | None = None
) -> list[RouteState]:
    outcomes = cutover.outcomes
    totals = outcomes.total_requests()
    diffs = cutover.diffs.routes()
    recent = window_totals(outcomes, at)
    rows: list[RouteState] = []
    for route in table.routes:
        phase, following = phase_at(route.schedule, at)
        next_phase = next((p for p in route.schedule if p.start == following), None)
        pin = cutover.pins.get(route.id)
        legacy_stats = outcomes.side(route.id, "legacy")
        target_stats = outcomes.side(route.id, "target")
        requests = sum(s.requests for s in (legacy_stats, target_stats) if s is not None)
        route_diffs = diffs.get(route.id)
        tripwire = outcomes.tripwires.get(route.id)
        side = side_now(cutover, table, route, at)
        rows.append(
            RouteState(
                id=route.id,
                path=route.template.source,
                methods=sorted(route.methods) if route.methods is not None else None,
                rollout=is_rollout(route),
                mode=side.mode,
                percent=side.percent,
                legacy=route.legacy,
                target=route.target,
                side=side,
                next_flip=None
                if next_phase is None
                else NextFlip(next_phase.start, next_phase.mode, next_phase.percent),
                pinned=pin.as_json() if pin is not None else None,
                requests=requests,
                traffic_share=requests / totals if totals else 0.0,
                fallbacks=outcomes.fallbacks.get(route.id, 0),
                legacy_side=legacy_stats.snapshot() if legacy_stats else None,
                target_side=target_stats.snapshot() if target_stats else None,
                shadow=route_diffs.summary() if route_diffs is not None else None,
                guard=None
                if tripwire is None
                else GuardView(
                    tripwire.config.max_error_rate,
                    tripwire.config.max_p99_ms,
                    tripwire.config.min_requests,
                    tripwire.config.window,
                    tripwire.window.count,
                    tripwire.window.error_rate,
                ),
                rate_limit=[quota.describe() for quota in route.quotas],
                rate_limited=(refused or {}).get(route.id, 0),
                windows=route_windows(outcomes, route.id, at, recent),
                chart=route_chart(outcomes, route.id, at),
            )
        )
    return rows


def tally(rows: list[RouteState]) -> Scoreboard:
    rollout = [r for r in rows if r.rollout]
    count = dict.fromkeys(STATES, 0)
    traffic = dict.fromkeys(STATES, 0)
    for row in rollout:
        state = "pinned" if row.pinned else row.mode
        count[state] += 1
        traffic[state] += row.requests
    total_traffic = sum(traffic.values())
    on_target = sum(row.target_side.requests for row in rollout if row.target_side is not None)
    return Scoreboard(
        routes=len(rollout),
        count=count,
        traffic=traffic,
        traffic_share={k: (v / total_traffic if total_traffic else 0.0) for k, v in traffic.items()},
        live_share=count["live"] / len(rollout) if rollout else 0.0,
        requests_on_target=on_target,
        requests=total_traffic,
    )


def endpoint_coverage(cutover: Cutover, table: CompiledTable) -> dict[str, Any]:
    """The legacy app's endpoints against the table, by count and by traffic since start."""
    outcomes = cutover.outcomes
    traffic: dict[str, float] = {"default": float(outcomes.default_requests)}
    for (route_id, _), stats in outcomes.stats.items():
        traffic[route_id] = traffic.get(route_id, 0.0) + stats.requests
    return cutover.coverage.report(table, cutover.clock(), set(cutover.pins.all()), traffic)


def cutover_state(
    cutover: Cutover, table: CompiledTable, last_reload: Any, refused: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """Everything the dashboard shows, as the JSON ``/_gateway/api/cutover`` returns.

    ``refused``: requests each route's rate limits answered with 429 (``RateLimiter.refused``)."""
    now = cutover.clock()
    rows = route_states(cutover, table, now, refused)  # one read for both views: they agree on every count
    report = endpoint_coverage(cutover, table)
    return {
        "at": iso_seconds(now),
        "table": {"file": table.source, "sha256": table.sha256, "loaded_at": iso_seconds(table.loaded_at)},
        "scoreboard": tally(rows).as_json(),
        "routes": [row.as_json() for row in rows],
        "upstreams": {
            name: {**state, "url": table.upstreams[name].url if name in table.upstreams else None}
            for name, state in cutover.upstream_state().items()
        },
        "shadow": {"submitted": cutover.mirror.submitted, "dropped": cutover.mirror.dropped},
        "last_reload": last_reload.as_dict() if last_reload is not None else None,
        "history": [entry.as_json() for entry in cutover.history.entries(20)],
        "coverage": coverage_totals(report),
    }


def coverage_totals(report: dict[str, Any]) -> dict[str, Any]:
    """The legacy-endpoint coverage without its per-endpoint rows (those are at /api/coverage)."""
    if report.get("state") != "ready":
        return report
    return {"state": "ready", "endpoints": report["total_endpoints"], **report["totals"]}


def gates_view(cutover: Cutover, table: CompiledTable) -> dict[str, Any]:
    """Every gated route: gates (requirement, verdict, opening), evidence, and the hold now."""
    now = cutover.clock()
    holds = cutover.gates.holds
    routes = []
    for route in table.routes:
        if not route.gates:
            continue
        recorded = holds.recorded.get(route.id)
        counts = recorded.counts if recorded is not None else {}
        opened = recorded.opened if recorded is not None else {}
        hold = cutover.gates.hold_now(route.id, now)
        gates = []
        for gate in route.gates:
            verdict = judge(gate, counts)
            found = opened.get(gate.label)
            gates.append(
                {
                    "phase": gate.label,
                    "from": iso(gate.start),
                    "requires": gate.describe(),
                    "defaulted": gate.defaulted,
                    "met": verdict.met,
                    "missing": verdict.missing,
                    "evidence": verdict.summary,
                    "opened": found.as_json() if found is not None else None,
                }
            )
        routes.append(
            {
                "id": route.id,
                "evidence_key": route.evidence,
                "gates": gates,
                "hold": holds.describe(hold) if hold is not None else None,
            }
        )
    return {"at": iso_seconds(now), "routes": routes}


def iso_seconds(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
