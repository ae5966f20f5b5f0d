"""The cutover machinery as one object the proxy consults per request.

:class:`Cutover` is the gateway's :class:`~gateway.rollout.Decider`. For a matched route and
its current phase it picks a side (in this order): a route pinned by its guard or an operator
→ legacy; an allowed ``X-Figway-Target`` override; ``live`` → target; ``canary`` → the user's
sticky bucket; ``shadow``/``legacy`` → legacy (``shadow`` also mirrors safe requests). A
target whose circuit breaker is open is skipped for legacy without trying.

After the answer the proxy reports back (:meth:`Cutover.observe`): per-side statistics for the
dashboard, the breaker, and the guard, which may pin the route. The other parts live in
their own modules: :mod:`gateway.canary`, :mod:`gateway.shadow`, :mod:`gateway.diff`,
:mod:`gateway.fallback`, :mod:`gateway.breaker`, :mod:`gateway.health`, :mod:`gateway.guard`,
:mod:`gateway.history`.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from gateway.breaker import Breakers
from gateway.canary import OverridePolicy, Side, sticky_side
from gateway.diff import DiffConfig, Sample
from gateway.fallback import Attempt, should_fall_back
from gateway.guard import Guard, GuardConfig, JsonFilePinStore, MemoryPinStore, Pins, PinStore, SlidingWindow
from gateway.health import HealthChecker
from gateway.history import ChangeHistory, RouteSnapshot
from gateway.hooks import Answer, ExchangeHooks
from gateway.inventory import Coverage, Endpoint, InventoryError, Placement, Resolver, coverage, load_url_map
from gateway.metrics import CutoverCollector
from gateway.paths import UnsafePath, split_path
from gateway.rollout import Decision, PhaseSpec, phase_at
from gateway.shadow import SHADOW_METHODS, DiffStore, ShadowJob, ShadowMirror, mirror_headers
from gateway.state import PinSharing, build_pin_store

if TYPE_CHECKING:
    from gateway.app import Gateway
    from gateway.compiler import CompiledRoute, CompiledTable
    from gateway.settings import GatewaySettings
    from gateway.types import Clock, Scope

log = structlog.get_logger("gateway.cutover")

STATS_WINDOW = 300.0
"""Seconds of per-side statistics shown on the dashboard."""
DECISION_CACHE = 4096
SHUTDOWN_WAIT = 5.0


@dataclass(frozen=True, slots=True)
class CutoverDecision(Decision):
    """A decision with the cutover's reasons attached."""

    side: str = Side.LEGACY
    shadow: bool = False
    why: str = ""
    pinned: bool = False


class SideStats:
    """Totals since start and a sliding window (count, errors, p50/p99) for one route side."""

    __slots__ = ("errors", "requests", "window")

    def __init__(self, clock: Clock) -> None:
        self.requests = 0
        self.errors = 0
        self.window = SlidingWindow(STATS_WINDOW, clock)

    def add(self, latency_ms: float, error: bool) -> None:
        self.requests += 1
        self.errors += error
        self.window.add(latency_ms, error)

    def snapshot(self) -> dict[str, Any]:
        window = self.window
        window.refresh()
        return {
            "requests": self.requests,
            "errors": self.errors,
            "window_requests": window.count,
            "error_rate": window.error_rate,
            "p50_ms": window.quantile_ms(0.5) if window.count else None,
            "p99_ms": window.quantile_ms(0.99) if window.count else None,
        }


def route_fingerprint(route: CompiledRoute) -> str:
    """Hash of everything that defines a route: a different hash releases its pin."""
    parts = (
        route.template.source,
        sorted(route.methods) if route.methods is not None else None,
        route.target,
        route.legacy,
        route.fallback,
        [(p.start, p.mode, p.percent) for p in route.schedule],
        route.guard.model_dump() if route.guard is not None else None,
        route.shadow.model_dump() if route.shadow is not None else None,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def is_rollout(route: CompiledRoute) -> bool:
    return route.target != route.legacy


def _guard_config(route: CompiledRoute) -> GuardConfig | None:
    guard = route.guard
    if guard is None:
        return None
    return GuardConfig(
        max_error_rate=guard.max_error_rate,
        max_p99_ms=guard.max_p99 * 1000 if guard.max_p99 is not None else None,
        min_requests=guard.min_requests,
        window=guard.window,
    )


def _diff_config(route: CompiledRoute) -> DiffConfig:
    shadow = route.shadow
    if shadow is None:
        return DiffConfig()
    return DiffConfig.build(ignore=shadow.ignore, unordered=shadow.unordered, exact=shadow.exact)


def snapshot_table(table: CompiledTable, at: float) -> dict[str, RouteSnapshot]:
    out: dict[str, RouteSnapshot] = {}
    for route in table.routes:
        phase, _ = phase_at(route.schedule, at)
        upstream = route.target if phase.mode == "live" else route.legacy
        out[route.id] = RouteSnapshot(
            route.id,
            route.template.source,
            tuple(sorted(route.methods)) if route.methods is not None else ("*",),
            upstream,
            phase.mode,
            phase.percent or 0.0,
            route_fingerprint(route),
        )
    return out


def placement_resolver(table: CompiledTable, at: float, pinned: Collection[str]) -> Resolver:
    """Where ``table`` sends a request at ``at``: the coverage report's view of a legacy endpoint."""

    def resolve(method: str, path: str) -> Placement:
        try:
            _, parts = split_path(path.encode("latin-1"), path)
        except UnsafePath:
            return Placement(None, "legacy")
        route = table.match(method, parts)
        if route is None:
            return Placement(None, "legacy")
        if not is_rollout(route):
            return Placement(route.id, "legacy" if route.target == table.default else "live")
        phase, _ = phase_at(route.schedule, at)
        return Placement(route.id, phase.mode, phase.percent, route.id in pinned)

    return resolve


class Cutover(ExchangeHooks):
    """Everything per route that is not plain proxying: decide, mirror, guard, record."""

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        admin_token: str | None = None,
        trusted: tuple[str, ...] = (),
        state_dir: Path | None = None,
        pin_store: PinStore | None = None,
        diff_jsonl: Path | None = None,
        shadow_queue: int = 1000,
        shadow_workers: int = 4,
        health_interval: float = 5.0,
        breaker_threshold: int = 5,
        breaker_reset: float = 10.0,
        monotonic: Clock = time.monotonic,
        legacy_app: str | None = None,
    ) -> None:
        self.clock = clock
        self.legacy_app = legacy_app or None
        self._endpoints: list[Endpoint] | None = None
        self._endpoints_error: str | None = None
        self._endpoints_task: asyncio.Task[None] | None = None
        self.default_requests = 0
        self._monotonic = monotonic
        self.override = OverridePolicy.build(admin_token, trusted)
        if pin_store is None:
            pin_store = (
                JsonFilePinStore(state_dir / "pins.json") if state_dir is not None else MemoryPinStore()
            )
        self.pins = Pins(pin_store)
        self.pin_sharing = PinSharing(pin_store)
        self.breakers = Breakers(
            failure_threshold=breaker_threshold, reset_after=breaker_reset, clock=monotonic
        )
        self.diffs = DiffStore(jsonl=diff_jsonl)
        self.mirror = ShadowMirror(self.diffs, queue_size=shadow_queue, workers=shadow_workers)
        self.history = ChangeHistory()
        self.health: HealthChecker | None = None
        self._health_interval = health_interval
        self._health_targets: dict[str, str] = {}
        self.guards: dict[str, Guard] = {}
        self.stats: dict[tuple[str, str], SideStats] = {}
        self.fingerprints: dict[str, str] = {}
        self._routes: dict[str, CompiledRoute] = {}
        self._diff_configs: dict[str, DiffConfig] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.fallbacks: dict[str, int] = {}
        self._decisions: dict[tuple[Any, ...], CutoverDecision] = {}
        self.started = False

    @classmethod
    def from_settings(cls, settings: GatewaySettings, *, clock: Clock = time.time) -> Cutover:
        token = settings.admin_token.get_secret_value() if settings.admin_token is not None else None
        return cls(
            clock=clock,
            admin_token=token,
            trusted=tuple(str(net) for net in settings.override_networks),
            state_dir=settings.state_dir,
            # With REDIS_URL every worker and replica shares the pins (gateway.state).
            pin_store=(
                build_pin_store(redis_url=settings.redis_url.get_secret_value())
                if settings.redis_url is not None
                else None
            ),
            diff_jsonl=settings.diff_log,
            shadow_queue=settings.shadow_queue,
            shadow_workers=settings.shadow_workers,
            health_interval=settings.health_interval,
            breaker_threshold=settings.breaker_failures,
            breaker_reset=settings.breaker_reset,
            legacy_app=settings.legacy_app,
        )

    def attach(self, gateway: Gateway) -> None:
        """Hook into a gateway: reload history, start/stop with it, admin endpoints and dashboard."""
        from gateway.dashboard import build_router

        reloader = gateway.reloader

        def swapped(old: CompiledTable, new: CompiledTable) -> None:
            self.on_swap(old, new, source=reloader.last.trigger if reloader.last is not None else "reload")

        async def started() -> None:
            await self.start(gateway.tables.table)

        gateway.metrics.registry.register(CutoverCollector(self))
        reloader.listeners.append(swapped)
        reloader.failure_listeners.append(self.on_reload_failed)
        gateway.on_startup.append(started)
        gateway.on_shutdown.append(self.aclose)
        gateway.admin.include_router(build_router(gateway, gateway.admin.state.require_admin))

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self, table: CompiledTable) -> None:
        await self.pins.load()
        self._adopt(table)
        await self.pins.reconcile(self.fingerprints)
        self.history.record({}, snapshot_table(table, self.clock()), source="start", table_hash=table.sha256)
        self.mirror.start()
        self._restart_health(table)
        self.pin_sharing.start(self.pins)
        self.started = True

    async def aclose(self) -> None:
        # Pin writes must land before the process goes (a pin survives restarts); give them a moment.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_WAIT)
        for task in list(self._tasks):
            task.cancel()
        if self.health is not None:
            await self.health.aclose()
            self.health = None
        if self._endpoints_task is not None and not self._endpoints_task.done():
            self._endpoints_task.cancel()
        await self.mirror.aclose()
        await self.pin_sharing.aclose()

    def _adopt(self, table: CompiledTable) -> None:
        self._routes = {route.id: route for route in table.routes}
        self._diff_configs = {route.id: _diff_config(route) for route in table.routes}
        self.fingerprints = {route.id: route_fingerprint(route) for route in table.routes}
        guards: dict[str, Guard] = {}
        for route in table.routes:
            config = _guard_config(route)
            if config is None:
                continue
            existing = self.guards.get(route.id)
            guards[route.id] = (
                existing
                if existing is not None and existing.config == config
                else Guard(route.id, config, self._monotonic)
            )
        self.guards = guards
        for name in table.upstreams:
            self.breakers.get(name)
        self.diffs.forget(set(self._routes))
        # routes that left the table take their statistics with them
        self.stats = {key: stats for key, stats in self.stats.items() if key[0] in self._routes}
        self.fallbacks = {rid: n for rid, n in self.fallbacks.items() if rid in self._routes}

    def _restart_health(self, table: CompiledTable) -> None:
        targets = {
            name: f"{upstream.url}{upstream.health}"
            for name, upstream in table.upstreams.items()
            if upstream.health is not None
        }
        if targets == self._health_targets and self.health is not None:
            return
        old = self.health
        if old is not None:
            self._spawn(old.aclose())
        self._health_targets = targets
        self.health = (
            HealthChecker(targets, self.breakers, interval=self._health_interval) if targets else None
        )
        if self.health is not None:
            self.health.start()

    async def settle(self) -> None:
        """Wait for the background work started so far (pin writes, old health checkers)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def on_swap(self, old: CompiledTable, new: CompiledTable, source: str = "reload") -> None:
        """Reload listener (sync, called on the event loop): history, guards, pins, health."""
        now = self.clock()
        self.history.record(
            snapshot_table(old, now), snapshot_table(new, now), source=source, table_hash=new.sha256
        )
        self._adopt(new)
        self._spawn(self.pins.reconcile(self.fingerprints))
        self._restart_health(new)

    def on_reload_failed(self, source: str, error: str) -> None:
        self.history.record_failure(source=source, error=error)

    # -- per request ------------------------------------------------------------------------

    def _decision(
        self,
        route: CompiledRoute,
        phase: PhaseSpec,
        upstream: str,
        alternate: str | None,
        side: Side,
        *,
        shadow: bool = False,
        why: str = "",
        pinned: bool = False,
    ) -> CutoverDecision:
        # Decisions are immutable and few: reuse them (building a frozen dataclass costs ~2 us).
        key = (
            route.id,
            upstream,
            alternate,
            phase.start,
            phase.mode,
            phase.percent,
            side,
            shadow,
            why,
            pinned,
        )
        decision = self._decisions.get(key)
        if decision is None:
            if len(self._decisions) >= DECISION_CACHE:
                self._decisions.clear()
            decision = self._decisions[key] = CutoverDecision(
                route.id,
                phase.mode,
                upstream,
                phase,
                alternate,
                side=side,
                shadow=shadow,
                why=why,
                pinned=pinned,
            )
        return decision

    def decide(self, route: CompiledRoute, phase: PhaseSpec, scope: Scope) -> Decision:
        if route.target == route.legacy:
            # a plain `to` route: the core's behaviour (no sides to choose between)
            return self._decision(route, phase, route.target, route.fallback, Side.TARGET)
        if route.id in self.pins.all():
            return self._decision(route, phase, route.legacy, None, Side.LEGACY, why="pinned", pinned=True)
        mode = phase.mode
        headers = scope.get("headers", ())
        client = scope.get("client")
        host = client[0] if client else None
        side = self.override.forced_side(headers, host) if self.override.active else None
        why = "override" if side is not None else ""
        if side is None:
            if mode == "live":
                side = Side.TARGET
            elif mode == "canary":
                side = sticky_side(headers, host, phase.percent or 0.0)
                why = "bucket"
            else:
                side = Side.LEGACY
        if side is Side.TARGET:
            if not self.breakers.get(route.target).allow():
                return self._decision(route, phase, route.legacy, None, Side.LEGACY, why="breaker open")
            return self._decision(route, phase, route.target, route.fallback, Side.TARGET, why=why)
        shadow = mode == "shadow" and scope.get("method") in SHADOW_METHODS and why != "override"
        if shadow and route.shadow is not None and route.shadow.percent < 100:
            shadow = random.random() * 100 < route.shadow.percent
        alternate = route.target if shadow else None
        return self._decision(route, phase, route.legacy, alternate, Side.LEGACY, shadow=shadow, why=why)

    def observe(
        self,
        decision: Decision,
        status: int,
        latency_s: float,
        *,
        reached: bool = True,
        side: str | None = None,
        upstream: str | None = None,
    ) -> None:
        """Count one answered (or failed) request against its side; feed breaker and guard."""
        if not isinstance(decision, CutoverDecision) or decision.route_id == "default":
            return
        error = status >= 500 or not reached
        side = str(decision.side) if side is None else side
        key = (decision.route_id, side)
        stats = self.stats.get(key)
        if stats is None:
            stats = self.stats[key] = SideStats(self._monotonic)
        latency_ms = latency_s * 1000
        stats.add(latency_ms, error)
        if side != Side.TARGET:
            return
        breaker = self.breakers.get(upstream or decision.upstream)
        if error:
            breaker.record_failure(f"status {status}" if reached else "unreachable")
        else:
            breaker.record_success()
        guard = self.guards.get(decision.route_id)
        if guard is None or decision.route_id in self.pins.all():
            return
        breach = guard.observe(latency_ms, error)
        if breach is not None:
            guard.reset()
            fingerprint = self.fingerprints.get(decision.route_id, "")
            self.pins.mark(decision.route_id, breach.reason, fingerprint=fingerprint)
            self._spawn(self.pins.persist())

    # -- ExchangeHooks: the proxy calls these ---------------------------------------------------

    def fallback_upstream(
        self, decision: Decision, method: str, *, reached: bool, status: int | None
    ) -> str | None:
        """DESIGN.md's fallback rule (see :mod:`gateway.fallback`) for target-side decisions."""
        if not isinstance(decision, CutoverDecision) or decision.side != Side.TARGET:
            return None
        if decision.alternate is None:
            return None
        if not reached:
            attempt = Attempt.NOT_REACHED
        else:
            attempt = Attempt.TIMEOUT if status is None else Attempt.ANSWERED
        return decision.alternate if should_fall_back(method, attempt, status) else None

    def wants_copy(self, decision: Decision) -> bool:
        return isinstance(decision, CutoverDecision) and decision.shadow

    def answered(self, answer: Answer) -> None:
        decision = answer.decision
        if not isinstance(decision, CutoverDecision):
            self.default_requests += 1  # unmatched: the default upstream (legacy) answered
            return
        if answer.fell_back_from is not None:
            # The target failed first (5xx, timeout, unreachable): that counts against it; the
            # answer the client got came from the fallback side.
            self.count_fallback(decision.route_id)
            self.observe(decision, 502, answer.latency_s, side=Side.TARGET, upstream=answer.fell_back_from)
            self.observe(decision, answer.status, answer.latency_s, side=Side.LEGACY)
        else:
            self.observe(decision, answer.status, answer.latency_s, reached=answer.reached)
        if decision.shadow and answer.body is not None and answer.error is None:
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in answer.headers}
            legacy = Sample(answer.status, headers.get("content-type", ""), answer.body, headers)
            job = self.shadow_job(
                answer.table, decision, answer.scope, answer.forward_path, answer.request_id, legacy
            )
            if job is not None:
                self.mirror.submit(job)

    def count_fallback(self, route_id: str) -> None:
        self.fallbacks[route_id] = self.fallbacks.get(route_id, 0) + 1

    def shadow_job(
        self,
        table: CompiledTable,
        decision: Decision,
        scope: Scope,
        forward_path: bytes,
        request_id: str,
        legacy: Sample,
    ) -> ShadowJob | None:
        route = self._routes.get(decision.route_id)
        if route is None or decision.alternate is None:
            return None
        query: bytes = scope.get("query_string", b"")
        suffix = forward_path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")
        learn = route.shadow is not None and route.shadow.learn_noise
        headers = [*mirror_headers(scope.get("headers", ())), ("X-Request-ID", request_id)]
        return ShadowJob(
            route_id=route.id,
            method=scope["method"],
            target_url=table.upstreams[decision.alternate].url + suffix,
            headers=headers,
            legacy=legacy,
            config=self._diff_configs[route.id],
            legacy_url=table.upstreams[decision.upstream].url + suffix if learn else None,
            request_id=request_id,
            path=suffix,
        )

    # -- for the admin API and the dashboard --------------------------------------------------

    async def pin(self, route_id: str, reason: str) -> bool:
        """Pin a rolled-out route to its legacy side; False when there is no such route."""
        route = self._routes.get(route_id)
        if route is None:
            return False
        if not is_rollout(route):
            raise ValueError(f"route {route_id!r} is a plain `to` route: no legacy side to pin back to")
        await self.pins.pin(route_id, reason, fingerprint=self.fingerprints.get(route_id, ""), by="operator")
        return True

    async def release(self, route_id: str) -> bool:
        released = await self.pins.release(route_id)
        guard = self.guards.get(route_id)
        if guard is not None:
            guard.reset()
        return released

    def route_state(self, table: CompiledTable, at: float | None = None) -> list[dict[str, Any]]:
        now = self.clock() if at is None else at
        totals = sum(s.requests for s in self.stats.values())
        rows: list[dict[str, Any]] = []
        for route in table.routes:
            phase, following = phase_at(route.schedule, now)
            next_phase = next((p for p in route.schedule if p.start == following), None)
            pin = self.pins.get(route.id)
            legacy_stats = self.stats.get((route.id, Side.LEGACY))
            target_stats = self.stats.get((route.id, Side.TARGET))
            requests = sum(s.requests for s in (legacy_stats, target_stats) if s is not None)
            diffs = self.diffs.routes().get(route.id)
            rows.append(
                {
                    "id": route.id,
                    "path": route.template.source,
                    "methods": sorted(route.methods) if route.methods is not None else None,
                    "rollout": is_rollout(route),
                    "mode": phase.mode,
                    "percent": phase.percent,
                    "legacy": route.legacy,
                    "target": route.target,
                    "next_flip": None
                    if next_phase is None
                    else {"at": next_phase.start, "mode": next_phase.mode, "percent": next_phase.percent},
                    "pinned": pin.as_json() if pin is not None else None,
                    "requests": requests,
                    "traffic_share": requests / totals if totals else 0.0,
                    "fallbacks": self.fallbacks.get(route.id, 0),
                    "sides": {
                        "legacy": legacy_stats.snapshot() if legacy_stats else None,
                        "target": target_stats.snapshot() if target_stats else None,
                    },
                    "shadow": diffs.summary() if diffs is not None else None,
                    "guard": None
                    if (guard := self.guards.get(route.id)) is None
                    else {
                        "max_error_rate": guard.config.max_error_rate,
                        "max_p99_ms": guard.config.max_p99_ms,
                        "min_requests": guard.config.min_requests,
                        "window": guard.config.window,
                        "window_requests": guard.window.count,
                        "window_error_rate": guard.window.error_rate,
                    },
                }
            )
        return rows

    def endpoint_coverage(self, table: CompiledTable) -> dict[str, Any]:
        """The legacy app's endpoints against the table, by count and by traffic since start.

        The endpoint list is read once, in the background, by a child interpreter that imports the
        legacy app (``GATEWAY_LEGACY_APP``); until it is there this says ``loading``.
        """
        if self.legacy_app is None:
            return {"state": "disabled"}
        if self._endpoints is None:
            if self._endpoints_error is not None:
                return {"state": "error", "error": self._endpoints_error}
            if self._endpoints_task is None:
                self._endpoints_task = asyncio.get_running_loop().create_task(self._load_endpoints())
            return {"state": "loading"}
        traffic: dict[str, float] = {"default": float(self.default_requests)}
        for (route_id, _), stats in self.stats.items():
            traffic[route_id] = traffic.get(route_id, 0.0) + stats.requests
        report: Coverage = coverage(
            self._endpoints, placement_resolver(table, self.clock(), set(self.pins.all())), traffic
        )
        return {"state": "ready", **report.as_json()}

    async def _load_endpoints(self) -> None:
        assert self.legacy_app is not None
        try:
            self._endpoints = await load_url_map(self.legacy_app)
        except (InventoryError, OSError, ValueError) as exc:
            self._endpoints_error = str(exc)
            log.warning("coverage.unavailable", app=self.legacy_app, error=str(exc))

    def upstream_state(self) -> dict[str, dict[str, Any]]:
        health = self.health.snapshot() if self.health is not None else {}
        return {
            name: {"breaker": breaker.snapshot(), "health": health.get(name)}
            for name, breaker in self.breakers.all().items()
        }

    def scoreboard(self, table: CompiledTable, at: float | None = None) -> dict[str, Any]:
        """Routes and traffic per state: the migration's progress at a glance."""
        return tally(self.route_state(table, at))


def tally(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The scoreboard of :meth:`Cutover.route_state` rows: routes and traffic per state."""
    rollout = [r for r in rows if r["rollout"]]
    states = ("legacy", "shadow", "canary", "live", "pinned")
    count = dict.fromkeys(states, 0)
    traffic = dict.fromkeys(states, 0)
    for row in rollout:
        state = "pinned" if row["pinned"] else row["mode"]
        count[state] += 1
        traffic[state] += row["requests"]
    total_traffic = sum(traffic.values())
    on_target = 0
    for row in rollout:
        target = row["sides"]["target"]
        on_target += target["requests"] if target else 0
    return {
        "routes": len(rollout),
        "count": count,
        "traffic": traffic,
        "traffic_share": {k: (v / total_traffic if total_traffic else 0.0) for k, v in traffic.items()},
        "live_share": count["live"] / len(rollout) if rollout else 0.0,
        "requests_on_target": on_target,
        "requests": total_traffic,
    }
