"""Read routing.yaml: YAML → RoutingTable → CompiledTable, with file:line and route id in every error.

PyYAML's composed node tree keeps the line of every key, so a Pydantic error location such as
``('routes', 3, 'rollout', 1, 'from')`` is mapped back to the line that holds it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gateway.compiler import CompiledTable, compile_table, unknown_upstreams
from gateway.errors import ConfigError, ConfigIssue
from gateway.matcher import TemplateError, parse_template
from gateway.rollout import system_clock
from gateway.routing_schema import Route, RoutingTable
from gateway.types import Clock
from gateway.upstream_env import apply_url_overrides, url_overrides

Loc = tuple[str | int, ...]


def _index_lines(
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    issues: list[ConfigIssue],
    source: str,
    seen_nodes: set[int] | None = None,
) -> None:
    lines[loc] = node.start_mark.line + 1
    # An alias is the same node object again: walk each node once, or nested aliases (a YAML bomb)
    # cost exponential time and a recursive alias never ends. Aliased content keeps its anchor's line.
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                issues.append(
                    ConfigIssue(source, key_node.start_mark.line + 1, None, f"duplicate key {key!r}")
                )
            seen.add(key)
            _index_lines(value_node, (*loc, key), lines, issues, source, seen_nodes)
            lines[(*loc, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*loc, index), lines, issues, source, seen_nodes)


def _line_for(loc: Loc, lines: Mapping[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        found = lines.get(loc[:end])
        if found is not None:
            return found
    return None


def _route_id(data: Any, loc: Loc) -> str | None:
    if len(loc) >= 2 and loc[0] == "routes" and isinstance(loc[1], int) and isinstance(data, dict):
        routes = data.get("routes")
        if isinstance(routes, list) and loc[1] < len(routes) and isinstance(routes[loc[1]], dict):
            value = routes[loc[1]].get("id")
            return str(value) if value is not None else f"#{loc[1] + 1}"
    return None


def _describe(error: Mapping[str, Any]) -> str:
    loc = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{loc}: {message}" if loc else message


def parse_table(
    text: str,
    *,
    source: str = "<memory>",
    clock: Clock = system_clock,
    environ: Mapping[str, str] | None = None,
) -> CompiledTable:
    """Validate and compile a routing table given as YAML text (raises ``ConfigError`` with every issue).

    Upstream URLs may be overridden by ``GATEWAY_UPSTREAM_<NAME>_URL`` (``gateway.upstream_env``),
    read from ``environ`` (default: the process environment).
    """
    issues: list[ConfigIssue] = []
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([ConfigIssue(source, line, None, f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise ConfigError([ConfigIssue(source, None, None, "invalid YAML: nested too deeply")]) from None
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(source, 1, None, "the routing table must be a YAML mapping")])
    lines: dict[Loc, int] = {}
    assert node is not None
    _index_lines(node, (), lines, issues, source)
    # Validate the table and each route separately so that one bad route does not hide the others'
    # cross-reference errors: every problem in the file is reported at once.
    raw_routes = data.get("routes")
    routes: list[Route] = []
    valid_positions: list[int] = []
    if isinstance(raw_routes, list):
        for index, raw_route in enumerate(raw_routes):
            try:
                routes.append(Route.model_validate(raw_route))
                valid_positions.append(index)
            except ValidationError as exc:
                _collect(exc, ("routes", index), data, lines, issues, source)
                _cross_check(raw_route, ("routes", index), data, lines, issues, source)
        top = {**data, "routes": []}
    else:
        top = data
    try:
        table = RoutingTable.model_validate(top)
    except ValidationError as exc:
        _collect(exc, (), data, lines, issues, source)
        raise ConfigError(issues) from None
    table = table.model_copy(update={"routes": tuple(routes)})
    table, env_issues = apply_url_overrides(table, url_overrides(environ), source=source)
    issues.extend(env_issues)
    named_lines: dict[str, int] = {"default": lines.get(("default",), 1)}
    for position, index in enumerate(valid_positions):
        named_lines[f"route#{position}"] = lines.get(("routes", index), 1)
        for phase_index in range(len(routes[position].rollout or ())):
            phase_line = lines.get(("routes", index, "rollout", phase_index))
            if phase_line is not None:
                named_lines[f"route#{position}.rollout#{phase_index}"] = phase_line
    digest = hashlib.sha256(text.encode()).hexdigest()
    try:
        compiled = compile_table(table, source=source, sha256=digest, lines=named_lines, clock=clock)
    except ConfigError as exc:
        issues.extend(exc.issues)
    if issues:
        issues.sort(key=lambda issue: issue.line or 0)
        raise ConfigError(issues)
    return compiled


def _collect(
    exc: ValidationError,
    prefix: Loc,
    data: Any,
    lines: Mapping[Loc, int],
    issues: list[ConfigIssue],
    source: str,
) -> None:
    for error in exc.errors():
        loc = (*prefix, *error["loc"])
        issues.append(
            ConfigIssue(source, _line_for(loc, lines), _route_id(data, loc), _describe({**error, "loc": loc}))
        )


def _cross_check(
    raw_route: Any, loc: Loc, data: Any, lines: Mapping[Loc, int], issues: list[ConfigIssue], source: str
) -> None:
    """The cross-reference checks of a route whose structure is invalid (it is not compiled): an
    operator who fixes the structural error must not then meet the next one."""
    if not isinstance(raw_route, dict):
        return
    upstreams = data.get("upstreams")
    names = [str(name) for name in upstreams] if isinstance(upstreams, dict) else []
    route_id = _route_id(data, loc)
    for message in unknown_upstreams(raw_route, names):
        key = message.partition(":")[0]
        issues.append(ConfigIssue(source, _line_for((*loc, key), lines), route_id, message))
    path = raw_route.get("path")
    if isinstance(path, str):
        try:
            parse_template(path)
        except TemplateError as exc:
            issues.append(ConfigIssue(source, _line_for((*loc, "path"), lines), route_id, str(exc)))


def load_table(path: str | Path, *, clock: Clock = system_clock) -> CompiledTable:
    """Read, validate and compile a routing file. Blocking: call it off the event loop."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(source, None, None, f"cannot read the routing file: {exc}")]) from None
    return parse_table(text, source=source, clock=clock)
