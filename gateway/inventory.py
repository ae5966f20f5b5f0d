"""The legacy app's endpoints, and how far each one has been migrated.

The endpoint list comes from the legacy app's Flask ``url_map``, read in a *subprocess* (the
gateway never imports the legacy package: they share only HTTP and routing.yaml), or from an
exported JSON file with the same shape::

    [{"rule": "/api/videos/<int:video_id>", "methods": ["GET"], "endpoint": "videos.get_video",
      "converters": {"video_id": "int"}}, ...]

``coverage`` puts each endpoint against the routing table (through a resolver, so this module
does not depend on the compiler), totals by count and, given per-route request counts from a
running gateway's metrics, by share of traffic. ``scaffold`` writes route entries for chosen
endpoints so a migration starts from the real app.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.routing_schema import SAFE_METHODS

DEFAULT_APP_FACTORY = "legacy_flask.app:create_app"
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
STATES = ("not migrated", "shadow", "canary", "live", "pinned back")

# Runs in the child: import the app factory, print its url_map as JSON. Nothing from the
# gateway is imported there, and nothing from the legacy app here.
_DUMP_URL_MAP = """
import importlib, json, sys
module_name, _, attr = sys.argv[1].partition(":")
app = getattr(importlib.import_module(module_name), attr or "create_app")()
names = {"IntegerConverter": "int", "FloatConverter": "float", "PathConverter": "path"}
names["UUIDConverter"] = "uuid"
out = [
    {
        "rule": rule.rule,
        "methods": sorted(rule.methods or ()),
        "endpoint": rule.endpoint,
        "converters": {k: names.get(type(v).__name__, "str") for k, v in rule._converters.items()},
    }
    for rule in app.url_map.iter_rules()
]
json.dump(out, sys.stdout)
"""

_FLASK_PARAM = re.compile(
    r"<(?:(?P<conv>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>"
)
_SAMPLE = {"int": "1", "float": "1.5", "path": "sample/path", "uuid": "00000000-0000-0000-0000-000000000000"}


class InventoryError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Endpoint:
    rule: str
    method: str
    name: str
    converters: Mapping[str, str]

    @property
    def template(self) -> str:
        """The rule as a routing.yaml path template (``<int:id>`` → ``{id:int}``)."""

        def repl(found: re.Match[str]) -> str:
            kind = self.converters.get(found["name"], found["conv"] or "str")
            return (
                f"{{{found['name']}}}"
                if kind in ("str", "string", "default")
                else f"{{{found['name']}:{kind}}}"
            )

        return _FLASK_PARAM.sub(repl, self.rule)

    @property
    def sample_path(self) -> str:
        """A concrete path this rule matches, to ask the routing table about."""

        def repl(found: re.Match[str]) -> str:
            kind = self.converters.get(found["name"], found["conv"] or "str")
            return _SAMPLE.get(kind, "sample")

        return _FLASK_PARAM.sub(repl, self.rule)


def endpoints_from_json(data: Any) -> list[Endpoint]:
    if not isinstance(data, list):
        raise InventoryError("an endpoint list is a JSON array of {rule, methods, endpoint}")
    out: list[Endpoint] = []
    for item in data:
        try:
            rule, methods = str(item["rule"]), [str(m).upper() for m in item["methods"]]
        except (KeyError, TypeError) as exc:
            raise InventoryError(f"bad endpoint entry {item!r}: needs rule and methods") from exc
        converters = {str(k): str(v) for k, v in (item.get("converters") or {}).items()}
        for method in methods:
            if method not in IGNORED_METHODS:
                out.append(Endpoint(rule, method, str(item.get("endpoint", rule)), converters))
    out.sort(key=lambda e: (e.rule, e.method))
    return out


def load_exported(path: Path) -> list[Endpoint]:
    try:
        return endpoints_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise InventoryError(f"cannot read endpoint list {path}: {exc}") from exc


async def load_url_map(
    factory: str = DEFAULT_APP_FACTORY,
    *,
    python: str = sys.executable,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    limit_seconds: float = 60.0,
) -> list[Endpoint]:
    """The legacy app's url_map, read by a child interpreter that imports the app factory."""
    proc = await asyncio.create_subprocess_exec(
        python,
        "-c",
        _DUMP_URL_MAP,
        factory,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit_seconds)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise InventoryError(f"url_map of {factory}: no answer within {limit_seconds:g}s") from None
    except asyncio.CancelledError:  # the gateway is shutting down: leave no child behind
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        raise InventoryError(f"cannot read the url_map of {factory}: {' | '.join(tail)}")
    return endpoints_from_json(json.loads(out))


# -- coverage --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the table sends one endpoint now."""

    route_id: str | None  # None: no route, the default upstream (legacy)
    mode: str
    percent: float | None = None
    pinned: bool = False


Resolver = Callable[[str, str], Placement]
"""``(method, path) -> Placement`` (backed by the compiled table)."""


def state_of(placement: Placement) -> str:
    if placement.pinned:
        return "pinned back"
    if placement.route_id is None or placement.mode == "legacy":
        return "not migrated"
    return placement.mode


@dataclass(frozen=True, slots=True)
class CoverageRow:
    endpoint: Endpoint
    placement: Placement
    state: str

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.endpoint.rule,
            "method": self.endpoint.method,
            "endpoint": self.endpoint.name,
            "route": self.placement.route_id,
            "mode": self.placement.mode,
            "percent": self.placement.percent,
            "state": self.state,
        }


@dataclass(frozen=True)
class Coverage:
    rows: tuple[CoverageRow, ...]
    by_count: Mapping[str, int]
    by_traffic: Mapping[str, float] | None

    @property
    def migrated_share(self) -> float:
        """Endpoints whose traffic is (at least partly) answered by the new side."""
        total = len(self.rows)
        return (self.by_count.get("canary", 0) + self.by_count.get("live", 0)) / total if total else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "endpoints": [r.as_json() for r in self.rows],
            "totals": {"count": dict(self.by_count), "traffic": dict(self.by_traffic or {})},
            "total_endpoints": len(self.rows),
        }


def coverage(
    endpoints: Iterable[Endpoint],
    resolve: Resolver,
    route_traffic: Mapping[str, float] | None = None,
) -> Coverage:
    """Each endpoint's state; totals by count and, with request counts per route id, by traffic."""
    rows = []
    for endpoint in endpoints:
        placement = resolve(endpoint.method, endpoint.sample_path)
        rows.append(CoverageRow(endpoint, placement, state_of(placement)))
    by_count = Counter({state: 0 for state in STATES})
    by_count.update(row.state for row in rows)
    by_traffic: dict[str, float] | None = None
    if route_traffic is not None:
        # Traffic is counted per route; a route serving several endpoints shares one state.
        state_by_route: dict[str, str] = {}
        for row in rows:
            state_by_route.setdefault(row.placement.route_id or "default", row.state)
        totals: dict[str, float] = {state: 0.0 for state in STATES}
        for route_id, requests in route_traffic.items():
            # unmatched requests went to legacy; a route serving none of these endpoints is left out
            state = state_by_route.get(route_id, "not migrated" if route_id == "default" else None)
            if state is not None:
                totals[state] = totals.get(state, 0.0) + requests
        grand = sum(totals.values())
        by_traffic = {state: (value / grand if grand else 0.0) for state, value in totals.items()}
    return Coverage(tuple(rows), dict(by_count), by_traffic)


def format_coverage(report: Coverage) -> str:
    width = max((len(r.endpoint.rule) for r in report.rows), default=10)
    lines = [f"{'METHOD':7} {'RULE':{width}}  {'STATE':14} ROUTE"]
    for row in report.rows:
        state = row.state
        if row.state == "canary":
            state = f"canary {row.placement.percent or 0:g}%"
        lines.append(
            f"{row.endpoint.method:7} {row.endpoint.rule:{width}}  {state:14} {row.placement.route_id or '-'}"
        )
    total = len(report.rows)
    lines.append("")
    counts = ", ".join(f"{state} {report.by_count.get(state, 0)}" for state in STATES)
    lines.append(f"{total} legacy endpoints: {counts}")
    if report.by_traffic is not None:
        shares = ", ".join(f"{state} {report.by_traffic.get(state, 0):.1%}" for state in STATES)
        lines.append(f"by traffic: {shares}")
    return "\n".join(lines) + "\n"


_REQUESTS_LINE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def traffic_from_metrics(text: str, metric: str, label: str = "route") -> dict[str, float]:
    """Requests per route from Prometheus text (summed over the other labels)."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        found = _REQUESTS_LINE.match(line)
        if found is None or found["name"] != metric:
            continue
        labels = dict(_LABEL.findall(found["labels"]))
        if label in labels:
            try:
                totals[labels[label]] = totals.get(labels[label], 0.0) + float(found["value"])
            except ValueError:
                continue
    return totals


# -- scaffold --------------------------------------------------------------------------------


def route_id_for(endpoint: Endpoint, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9]+", "-", endpoint.name).strip("-").lower() or "route"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def select(endpoints: Sequence[Endpoint], patterns: Sequence[str]) -> list[Endpoint]:
    """Endpoints whose Flask endpoint name or rule matches any glob (``videos.*``, ``/api/settings*``)."""
    return [
        e
        for e in endpoints
        if any(fnmatch.fnmatchcase(e.name, p) or fnmatch.fnmatchcase(e.rule, p) for p in patterns)
    ]


def scaffold(
    endpoints: Sequence[Endpoint],
    *,
    target: str,
    start: str,
    taken: Iterable[str] = (),
) -> str:
    """routing.yaml route entries (indented for a ``routes:`` list), one per rule.

    Methods of one rule share an entry; a rule that only has safe methods starts in ``shadow``
    (its answers are compared before anyone depends on them), any other starts in ``legacy``,
    since shadowing a write would perform it twice.
    """
    taken_ids = set(taken)
    grouped: dict[str, list[Endpoint]] = {}
    for endpoint in endpoints:
        grouped.setdefault(endpoint.rule, []).append(endpoint)
    blocks: list[str] = []
    for group in grouped.values():
        first = group[0]
        methods = sorted({e.method for e in group})
        mode = "shadow" if set(methods) <= SAFE_METHODS else "legacy"
        route_id = route_id_for(first, taken_ids)
        blocks.append(
            "\n".join(
                [
                    f"  - id: {route_id}",
                    f"    path: {json.dumps(first.template)}",
                    f"    methods: [{', '.join(methods)}]",
                    f"    target: {target}",
                    "    rollout:",
                    f"      - {{from: {start}, mode: {mode}}}",
                ]
            )
        )
    return "\n".join(blocks) + ("\n" if blocks else "")
