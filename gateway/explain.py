"""``explain``: which route, side and upstream a request gets, and every input that decided it.

The answer comes from the serving decider (:class:`gateway.decide.Decider`) with a trace, so
explain cannot disagree with serving: same matcher, same phase at the same instant, same identity,
pins, breakers and override. The CLI and the admin API both call :func:`explain`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.compiler import DEFAULT_ROUTE_ID, CompiledTable
from gateway.decide import Decider, Trace
from gateway.paths import UnsafePath, split_path
from gateway.ratelimit.policy import Quota
from gateway.rollout import NEVER, phase_at
from gateway.routing_schema import Mode


@dataclass(frozen=True, slots=True)
class Candidate:
    route_id: str
    path: str
    methods: tuple[str, ...] | None
    specificity: tuple[int, ...]
    verdict: str


@dataclass(frozen=True, slots=True)
class Explanation:
    method: str
    path: str
    forwarded_path: str | None
    route_id: str
    mode: Mode
    upstream: str
    upstream_url: str | None
    next_flip: float | None
    candidates: tuple[Candidate, ...]
    error: str | None = None
    side: str = "legacy"
    why: str = ""
    shadow: bool = False
    #: The instant the phase was read at (epoch seconds).
    at: float | None = None
    #: Every input the decider consulted: phase, hold, pin, override, identity/bucket, breaker.
    inputs: Trace = field(default_factory=dict)
    #: Set when a gate holds the route in an earlier phase than the calendar's: why, what is missing.
    hold: dict[str, Any] | None = None
    #: The chosen route's rate limits (a request over one is answered 429 before it is forwarded).
    rate_limits: tuple[Quota, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "forwarded_path": self.forwarded_path,
            "route": self.route_id,
            "mode": self.mode,
            "side": self.side,
            "upstream": self.upstream,
            "upstream_url": self.upstream_url,
            "why": self.why,
            "shadow": self.shadow,
            "at": self.at,
            "inputs": self.inputs,
            "hold": self.hold,
            "next_flip": self.next_flip,
            "error": self.error,
            "rate_limits": [quota.describe() for quota in self.rate_limits],
            "considered": [
                {
                    "route": c.route_id,
                    "path": c.path,
                    "methods": list(c.methods) if c.methods is not None else None,
                    "specificity": list(c.specificity),
                    "verdict": c.verdict,
                }
                for c in self.candidates
            ],
        }


def explain(
    table: CompiledTable,
    decider: Decider,
    method: str,
    path: str,
    *,
    at: float | None = None,
    headers: tuple[tuple[bytes, bytes], ...] = (),
    client: str | None = None,
) -> Explanation:
    """Explain one request as serving would decide it at ``at`` (default: the table's now)."""
    method = method.upper()
    bare = path.split("?", 1)[0]
    try:
        forwarded, parts = split_path(bare.encode("latin-1", errors="replace"), bare)
    except UnsafePath as exc:
        return Explanation(method, path, None, "-", "legacy", "-", None, None, (), error=f"400: {exc}")
    chosen = table.match(method, parts)
    candidates: list[Candidate] = []
    for route in sorted(table.routes, key=lambda r: r.template.specificity, reverse=True):
        if route.template.match(parts) is None:
            continue
        if route is chosen:
            verdict = "chosen: most specific route matching path and method"
        elif not route.allows(method):
            verdict = f"method {method} not allowed"
        else:
            verdict = "matches, but a more specific route wins"
        methods = tuple(sorted(route.methods)) if route.methods is not None else None
        candidates.append(
            Candidate(route.id, route.template.source, methods, route.template.specificity, verdict)
        )
    now = table.board.now() if at is None else at
    trace: Trace = {"client": client}
    if chosen is None:
        decision = decider.default(table)
        next_flip = NEVER
        trace["route"] = DEFAULT_ROUTE_ID
    else:
        phase, next_flip = phase_at(chosen.schedule, now)
        scope = {"method": method, "headers": list(headers), "client": (client, 0) if client else None}
        decision = decider.decide(chosen, phase, scope, trace, now=now)
    return Explanation(
        method,
        path,
        forwarded.decode("latin-1"),
        decision.route_id,
        decision.mode,
        decision.upstream,
        table.upstreams[decision.upstream].url,
        None if next_flip == NEVER else next_flip,
        tuple(candidates),
        side=str(decision.side),
        why=decision.why,
        shadow=decision.shadow,
        at=now,
        inputs=trace,
        hold=trace.get("hold"),
        rate_limits=chosen.quotas if chosen is not None else (),
    )
