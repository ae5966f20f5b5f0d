"""The one decider: which side answers a request, and why.

Serving, ``explain`` (CLI and admin API), ``/_gateway/api/routes``, the dashboard and ``plan`` all
ask :class:`Decider`, with the same inputs: the time (the route's phase), the request's identity
(its canary bucket), the pins, the circuit breakers and the ``X-Figway-Target`` override. When two
code paths answer "which side serves this request", one of them is wrong sooner or later; here
there is one.

The phase is the calendar's, unless a gate holds it (:mod:`gateway.gates`): a dated phase whose
evidence is missing is not entered, and the route is decided in the phase before it (one dict
lookup per request, over holds precomputed when a gate opens, never I/O).

For a matched route and its phase the side is picked in this order:

1. a plain ``to`` route has one side (its ``to``);
2. a route pinned by its guard or an operator goes to legacy;
3. an allowed ``X-Figway-Target`` override picks the side;
4. ``live`` goes to the target, ``canary`` to the user's sticky bucket, ``shadow``/``legacy`` to
   legacy (``shadow`` also mirrors safe requests to the target);
5. a target whose circuit breaker is open is skipped for legacy without trying.

Pass a ``trace`` dict to :meth:`Decider.decide` and it notes every input it consulted (explain
shows them); serving passes none and pays nothing for it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.breaker import Breakers
from gateway.canary import OverridePolicy, Side, bucket_of, identity_of, side_for
from gateway.compiler import DEFAULT_ROUTE_ID, CompiledRoute, CompiledTable
from gateway.gates.holds import Hold, Holds
from gateway.pins.store import Pins
from gateway.rollout import BEFORE_ROLLOUT, PhaseSpec
from gateway.routing_schema import Mode
from gateway.shadow import SHADOW_METHODS
from gateway.types import Scope

DECISION_CACHE = 4096

Trace = dict[str, Any]
"""The inputs one decision consulted, by name (``explain`` prints them)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one request goes. ``upstream`` answers the client; the rest says why and what else."""

    route_id: str
    mode: Mode
    upstream: str
    phase: PhaseSpec
    #: The other side: the fallback of a target decision, the mirror target of a shadow decision.
    alternate: str | None = None
    side: Side = Side.LEGACY
    #: Mirror this request to ``alternate`` and compare the answers.
    shadow: bool = False
    #: Which input settled the side: "", "pinned", "override", "bucket", "breaker open".
    why: str = ""
    pinned: bool = False
    #: Set when a gate holds the route in ``phase`` although the calendar says a later one.
    hold: Hold | None = None


def is_rollout(route: CompiledRoute) -> bool:
    """A route with two sides (target and legacy) rather than a plain ``to``."""
    return route.target != route.legacy


class Decider:
    """Picks the side for a matched request (see the module docstring for the order)."""

    def __init__(
        self,
        *,
        pins: Pins,
        breakers: Breakers,
        override: OverridePolicy | None = None,
        sample: Callable[[], float] = random.random,
        holds: Holds | None = None,
    ) -> None:
        self.pins = pins
        self.holds = holds if holds is not None else Holds()
        self.breakers = breakers
        self.override = override or OverridePolicy()
        self._sample = sample
        self._decisions: dict[tuple[Any, ...], Decision] = {}

    def _decision(
        self,
        route_id: str,
        phase: PhaseSpec,
        upstream: str,
        alternate: str | None,
        side: Side,
        shadow: bool = False,
        why: str = "",
        pinned: bool = False,
        hold: Hold | None = None,
    ) -> Decision:
        # Decisions are immutable and few: reuse them (building a frozen dataclass costs ~2 us).
        key = (route_id, upstream, alternate, phase, side, shadow, why, pinned, hold)
        decision = self._decisions.get(key)
        if decision is None:
            if len(self._decisions) >= DECISION_CACHE:
                self._decisions.clear()
            decision = self._decisions[key] = Decision(
                route_id, phase.mode, upstream, phase, alternate, side, shadow, why, pinned, hold
            )
        return decision

    def default(self, table: CompiledTable) -> Decision:
        """No route matched: the table's default upstream (legacy) answers."""
        return self._decision(DEFAULT_ROUTE_ID, BEFORE_ROLLOUT, table.default, None, Side.LEGACY)

    def decide_request(self, table: CompiledTable, method: str, parts: list[str], scope: Scope) -> Decision:
        """Match and decide: the serving path (the phase comes from the table's board, i.e. now)."""
        route = table.matcher.match(method, parts)
        if route is None:
            return self.default(table)
        return self.decide(route, table.board.current(route.index), scope)

    def decide(
        self,
        route: CompiledRoute,
        phase: PhaseSpec,
        scope: Scope,
        trace: Trace | None = None,
        now: float | None = None,
    ) -> Decision:
        """Decide in calendar ``phase`` (``now``: the instant a hold is judged at; default the clock)."""
        hold = None
        if self.holds.by_route:
            hold = self.holds.hold(route.id, phase, now)
            if hold is not None:
                phase = hold.serving
        if trace is not None:
            trace["phase"] = {"mode": phase.mode, "percent": phase.percent, "since": phase.start}
            trace["hold"] = self.holds.describe(hold) if hold is not None else None
        if hold is not None:
            return self._held(route, phase, scope, trace, hold)
        return self._decide(route, phase, scope, trace)

    def _held(
        self, route: CompiledRoute, phase: PhaseSpec, scope: Scope, trace: Trace | None, hold: Hold
    ) -> Decision:
        decision = self._decide(route, phase, scope, trace)
        return self._decision(
            decision.route_id,
            decision.phase,
            decision.upstream,
            decision.alternate,
            decision.side,
            decision.shadow,
            decision.why,
            decision.pinned,
            hold,
        )

    def _decide(self, route: CompiledRoute, phase: PhaseSpec, scope: Scope, trace: Trace | None) -> Decision:
        if route.target == route.legacy:
            # a plain `to` route: one side, no rollout inputs
            return self._decision(route.id, phase, route.target, route.fallback, Side.TARGET)
        pinned = route.id in self.pins.all()
        if trace is not None:
            pin = self.pins.get(route.id)
            trace["pin"] = pin.as_json() if pin is not None else None
        if pinned:
            return self._decision(route.id, phase, route.legacy, None, Side.LEGACY, why="pinned", pinned=True)
        mode = phase.mode
        headers = scope.get("headers", ())
        client = scope.get("client")
        host = client[0] if client else None
        side = self.override.forced_side(headers, host) if self.override.active else None
        if trace is not None:
            trace["override"] = str(side) if side is not None else None
        why = "override" if side is not None else ""
        if side is None:
            if mode == "live":
                side = Side.TARGET
            elif mode == "canary":
                side = self._bucket_side(headers, host, phase.percent or 0.0, trace)
                why = "bucket"
            else:
                side = Side.LEGACY
        if trace is not None:  # shown even when the side is legacy: the operator asks "and if not?"
            trace["breaker"] = {"upstream": route.target, "state": str(self.breakers.get(route.target).state)}
        if side is Side.TARGET:
            breaker = self.breakers.get(route.target)
            # explain peeks: it must not take the half-open breaker's one probe
            allowed = breaker.allow() if trace is None else breaker.would_allow()
            if not allowed:
                return self._decision(route.id, phase, route.legacy, None, Side.LEGACY, why="breaker open")
            return self._decision(route.id, phase, route.target, route.fallback, Side.TARGET, why=why)
        shadow = mode == "shadow" and scope.get("method") in SHADOW_METHODS and why != "override"
        if shadow and route.shadow is not None and route.shadow.percent < 100:
            shadow = self._sample() * 100 < route.shadow.percent
            if trace is not None:
                trace["shadow_sample"] = {"percent": route.shadow.percent, "mirrored": shadow}
        alternate = route.target if shadow else None
        return self._decision(route.id, phase, route.legacy, alternate, Side.LEGACY, shadow, why)

    @staticmethod
    def _bucket_side(headers: Any, host: str | None, percent: float, trace: Trace | None) -> Side:
        if trace is None:
            if percent <= 0:
                return Side.LEGACY
            if percent >= 100:
                return Side.TARGET
            return side_for(bucket_of(identity_of(headers, host)), percent)
        identity = identity_of(headers, host)
        bucket = bucket_of(identity)
        side = side_for(bucket, percent)
        trace["identity"] = {"kind": identity.partition(":")[0], "bucket": bucket, "percent": percent}
        return side
