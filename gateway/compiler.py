"""Compile a validated ``RoutingTable`` into plain immutable data for the hot path.

The compiled table owns its matcher (a trie) and its ``PhaseBoard``; requests keep a reference to the
table they started with, so a reload never changes the rules under an in-flight request.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from gateway.errors import ConfigError, ConfigIssue
from gateway.gates.rules import Gate, compile_gates, evidence_fingerprint
from gateway.groups import check_groups
from gateway.matcher import AmbiguousRoute, Matcher, Template, TemplateError, parse_template
from gateway.ratelimit.policy import Quota, compile_quotas
from gateway.rollout import ALWAYS_LIVE, BEFORE_ROLLOUT, PhaseBoard, PhaseSpec, compile_phases, system_clock
from gateway.routing_schema import SAFE_METHODS, GuardRule, Route, RoutingTable, Shadow, Timeouts
from gateway.types import Clock

DEFAULT_ROUTE_ID = "default"


@dataclass(frozen=True, slots=True)
class CompiledUpstream:
    name: str
    url: str
    scheme: str
    host: str
    port: int
    #: None: forward the client's Host; otherwise the value to send.
    host_header: str | None
    timeouts: Timeouts
    max_connections: int
    keepalive: float
    health: str | None
    openapi: str | None = None

    @property
    def pool_key(self) -> tuple[Any, ...]:
        """Upstreams with the same key can share one client session across reloads."""
        return (self.name, self.url, self.timeouts, self.max_connections, self.keepalive)


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    index: int
    id: str
    template: Template
    methods: frozenset[str] | None
    #: The new side (the only side for a `to` route).
    target: str
    #: The legacy side of a rollout.
    legacy: str
    fallback: str | None
    schedule: tuple[PhaseSpec, ...]
    guard: GuardRule | None
    shadow: Shadow | None
    line: int | None = None
    group: str | None = None
    #: The phases that wait for evidence (``gateway.gates``), and the key their evidence is kept under.
    gates: tuple[Gate, ...] = ()
    evidence: str = ""
    quotas: tuple[Quota, ...] = ()

    def allows(self, method: str) -> bool:
        return self.methods is None or method in self.methods


@dataclass(frozen=True, slots=True)
class CompiledTable:
    source: str
    sha256: str
    version: int
    timezone: str
    upstreams: Mapping[str, CompiledUpstream]
    default: str
    routes: tuple[CompiledRoute, ...]
    matcher: Matcher[CompiledRoute] = field(repr=False)
    board: PhaseBoard = field(repr=False)
    loaded_at: float
    #: Route id -> its rate-limit policies, for the routes that have any (looked up per request).
    quotas: Mapping[str, tuple[Quota, ...]] = field(default_factory=dict)

    def match(self, method: str, parts: list[str]) -> CompiledRoute | None:
        return self.matcher.match(method, parts)

    def phase(self, route: CompiledRoute) -> PhaseSpec:
        return self.board.current(route.index)


class TableRef:
    """The one mutable reference to the active table; swapping it is a single attribute store."""

    __slots__ = ("table",)

    def __init__(self, table: CompiledTable) -> None:
        self.table = table


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


def _compile_upstream(name: str, upstream: Any) -> CompiledUpstream:
    parts = urlsplit(upstream.url)
    scheme = parts.scheme
    port = parts.port or (443 if scheme == "https" else 80)
    host = parts.hostname or ""
    authority = host if parts.port is None else f"{host}:{port}"
    host_header = {"preserve": None, "upstream": authority}.get(upstream.host, upstream.host)
    return CompiledUpstream(
        name=name,
        url=upstream.url,
        scheme=scheme,
        host=host,
        port=port,
        host_header=host_header,
        timeouts=upstream.timeout,
        max_connections=upstream.pool.max_connections,
        keepalive=upstream.pool.keepalive,
        health=upstream.health,
        openapi=upstream.openapi,
    )


def _route_methods(route: Route) -> frozenset[str] | None:
    if route.methods is None:
        return None
    methods = set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")  # as every HTTP server does; HEAD answers like GET without a body
    return frozenset(methods)


def _schedule(route: Route, default: str, zone: ZoneInfo) -> tuple[PhaseSpec, ...]:
    if route.to is not None:
        return (BEFORE_ROLLOUT,) if route.to == default else (ALWAYS_LIVE,)
    return compile_phases(route.rollout or (), zone)


UPSTREAM_KEYS = ("to", "target", "legacy", "fallback")


def unknown_upstreams(route: Mapping[str, Any], upstreams: Collection[str]) -> list[str]:
    """A route's references to upstreams that the table does not define (also asked of a route
    whose structure is invalid, so that ``check`` reports both kinds of error in one run)."""
    return [
        f"{key}: unknown upstream {name!r} (defined: {', '.join(upstreams)})"
        for key in UPSTREAM_KEYS
        if isinstance(name := route.get(key), str) and name not in upstreams
    ]


def compile_table(
    table: RoutingTable,
    *,
    source: str = "<memory>",
    sha256: str = "",
    lines: Mapping[str, int] | None = None,
    clock: Clock = system_clock,
) -> CompiledTable:
    """Check what needs the whole table and build the immutable compiled form (raises ``ConfigError``)."""
    lines = lines or {}
    issues: list[ConfigIssue] = []

    def problem(route: str | None, message: str, key: str | None = None) -> None:
        line = (lines.get(key) or lines.get(key.split(".")[0])) if key else None
        issues.append(ConfigIssue(source, line, route, message))

    if table.default not in table.upstreams:
        problem(None, f"default upstream {table.default!r} is not defined in upstreams", "default")
    zone = ZoneInfo(table.timezone)
    matcher: Matcher[CompiledRoute] = Matcher()
    compiled: list[CompiledRoute] = []
    seen: set[str] = set()
    groups: dict[str, list[tuple[str, tuple[PhaseSpec, ...]]]] = {}
    group_where: dict[str, str] = {}
    for position, route in enumerate(table.routes):
        where = f"route#{position}"
        if route.id in seen:
            problem(route.id, f"duplicate route id {route.id!r}", where)
            continue
        seen.add(route.id)
        for message in unknown_upstreams(route.model_dump(), table.upstreams):
            problem(route.id, message, where)
        methods = _route_methods(route)
        if route.uses_shadow:
            unsafe = {"ANY"} if methods is None else methods - SAFE_METHODS
            if unsafe:
                problem(
                    route.id,
                    "shadowing mirrors requests, so the route may only allow safe methods "
                    f"(GET, HEAD, OPTIONS); it allows {', '.join(sorted(unsafe))}",
                    where,
                )
        schedule = _schedule(route, table.default, zone)
        for earlier, later in zip(schedule, schedule[1:], strict=False):
            if later.start <= earlier.start:
                problem(
                    route.id, "rollout phases overlap: each `from` must be later than the one before", where
                )
                break
        gates: tuple[Gate, ...] = ()
        if route.rollout:
            gates, gate_issues = compile_gates(route.rollout, schedule, table.evidence)
            for phase_index, message in gate_issues:
                problem(route.id, f"rollout[{phase_index}]: {message}", f"{where}.rollout#{phase_index}")
        try:
            template = parse_template(route.path)
        except TemplateError as exc:
            problem(route.id, str(exc), where)
            continue
        target = route.target or route.to or table.default
        entry = CompiledRoute(
            index=len(compiled),
            id=route.id,
            template=template,
            methods=methods,
            target=target,
            legacy=route.legacy or (route.to if route.to is not None else table.default),
            fallback=route.fallback,
            schedule=schedule,
            guard=route.guard,
            shadow=route.shadow,
            line=lines.get(where),
            group=route.group,
            gates=gates,
            evidence=evidence_fingerprint(route.path, route.methods, target, route.legacy or table.default)
            if gates
            else "",
            quotas=compile_quotas(route.id, route.rate_limit),
        )
        if route.group is not None:
            groups.setdefault(route.group, []).append((route.id, schedule))
            group_where[route.id] = where
        try:
            matcher.add(route.id, template, methods, entry)
        except AmbiguousRoute as exc:
            problem(route.id, str(exc), where)
            continue
        compiled.append(entry)
    for route_id, message in check_groups(groups):
        problem(route_id, message, group_where[route_id])
    if issues:
        raise ConfigError(issues)
    upstreams = {name: _compile_upstream(name, up) for name, up in table.upstreams.items()}
    routes = tuple(compiled)
    return CompiledTable(
        source=source,
        sha256=sha256,
        version=table.version,
        timezone=table.timezone,
        upstreams=MappingProxyType(upstreams),
        default=table.default,
        routes=routes,
        matcher=matcher,
        board=PhaseBoard(tuple(route.schedule for route in routes), clock),
        loaded_at=time.time(),
        quotas=MappingProxyType({route.id: route.quotas for route in routes if route.quotas}),
    )
