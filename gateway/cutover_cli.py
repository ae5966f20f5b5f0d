"""``python -m gateway plan|coverage|scaffold``: the operator's migration tools.

- ``plan [FILE]``: the rollout calendar, week by week, of which routes change mode.
- ``coverage``: every legacy endpoint (from the legacy app's ``url_map``, read in a child
  process, or from an exported JSON list) against the table: not migrated, shadow, canary %,
  live, pinned back; totals by count and, from a running gateway's metrics, by traffic.
- ``scaffold``: route entries for chosen legacy endpoints, printed or appended to the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import httpx
import yaml

from gateway.breaker import Breakers
from gateway.canary import OverridePolicy
from gateway.compiler import CompiledTable, route_fingerprint
from gateway.coverage import placement_resolver
from gateway.decide import Decider, is_rollout
from gateway.errors import ConfigError
from gateway.gates.offline import flip_notes, offline_holds
from gateway.inventory import (
    DEFAULT_APP_FACTORY,
    Endpoint,
    InventoryError,
    coverage,
    format_coverage,
    load_exported,
    load_url_map,
    scaffold,
    select,
    traffic_from_metrics,
)
from gateway.loader import load_table, parse_table
from gateway.pins.sharing import build_pin_store
from gateway.pins.store import MemoryPinStore, Pin, Pins, stale_pins
from gateway.plan import build_calendar, format_calendar, iso_week_label
from gateway.rollout import phase_at, phase_instant
from gateway.routing_schema import parse_phase_start

REQUESTS_METRIC = "figway_requests_total"


def add_commands(commands: Any, config_default: str) -> None:
    """Register the three sub-commands on the CLI's sub-parser set."""
    plan = commands.add_parser("plan", help="the rollout calendar, week by week")
    plan.add_argument("file", nargs="?", help=f"routing table (default: {config_default})")
    plan.add_argument("--json", action="store_true", help="print JSON")
    plan.add_argument("--state-dir", type=Path, help="where the pins are kept (default: $GATEWAY_STATE_DIR)")

    cov = commands.add_parser("coverage", help="legacy endpoints against the routing table")
    cov.add_argument("--config", help=f"routing table (default: {config_default})")
    _endpoint_source(cov)
    cov.add_argument("--at", help="ISO date-time or ISO week to evaluate the rollout at (default: now)")
    cov.add_argument("--metrics", help="a running gateway's metrics URL, for totals by traffic")
    cov.add_argument("--gateway", help="a running gateway's base URL: pinned routes come from its admin API")
    cov.add_argument("--token", help="admin token for --metrics/--gateway (default: $GATEWAY_ADMIN_TOKEN)")
    cov.add_argument("--json", action="store_true", help="print JSON")

    scaf = commands.add_parser("scaffold", help="route entries for chosen legacy endpoints")
    scaf.add_argument("patterns", nargs="+", help="endpoint names or rules, globs allowed (videos.*)")
    scaf.add_argument("--config", help=f"routing table to append to with --write (default: {config_default})")
    _endpoint_source(scaf)
    scaf.add_argument("--target", default="services", help="upstream of the new side (default: services)")
    scaf.add_argument("--from", dest="start", help="first phase's ISO week (default: next week)")
    scaf.add_argument("--write", action="store_true", help="append the entries to the table's routes")


def _endpoint_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app",
        help=f"legacy app factory module:function (default: $GATEWAY_LEGACY_APP or {DEFAULT_APP_FACTORY})",
    )
    parser.add_argument("--endpoints", help="exported JSON list of endpoints instead of importing the app")


def _endpoints(args: argparse.Namespace, app_default: str) -> list[Endpoint]:
    if args.endpoints:
        return load_exported(Path(args.endpoints))
    return asyncio.run(load_url_map(args.app or app_default, cwd=Path.cwd()))


def load_reporting(path: str, err: TextIO) -> CompiledTable | None:
    """The table at ``path``, or None after printing its issues to ``err``."""
    try:
        return load_table(path)
    except ConfigError as exc:
        for issue in exc.issues:
            print(str(issue), file=err)
        return None


def offline_decider(table: CompiledTable, state_dir: Path | None = None) -> Decider:
    """The serving decider, fed what a process without traffic can know: the shared pins (state
    directory or Redis, as the gateway keeps them, less those ``table`` releases, as the gateway
    does when it loads it); breakers are closed (no traffic seen here; the admin API's explain
    shows the live ones)."""
    from gateway.settings import GatewaySettings

    settings = GatewaySettings()
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url is not None else None
    store = build_pin_store(
        redis_url=redis_url, state_dir=state_dir or settings.state_dir, prefix=settings.state_prefix
    )

    async def read() -> dict[str, Pin]:
        try:
            return await store.load()
        finally:
            close = getattr(store, "aclose", None)
            if close is not None:
                await close()

    try:
        loaded = asyncio.run(read())
    except Exception as exc:  # explain still answers, without pins, and says so
        print(f"pins unavailable ({exc}); deciding without them", file=sys.stderr)
        loaded = {}
    fingerprints = {route.id: route_fingerprint(route) for route in table.routes}
    for route_id in stale_pins(loaded, fingerprints):
        del loaded[route_id]
    memory = MemoryPinStore()
    memory.pins = loaded
    pins = Pins(memory)
    asyncio.run(pins.load())
    token = settings.admin_token.get_secret_value() if settings.admin_token is not None else None
    override = OverridePolicy.build(token, tuple(str(net) for net in settings.override_networks))
    # flip holds as the gateways see them (the shared evidence store)
    holds = offline_holds(table, settings, state_dir=state_dir)
    return Decider(pins=pins, breakers=Breakers(), override=override, holds=holds)


def held_on_legacy(table: CompiledTable, decider: Decider, at: float) -> dict[str, str]:
    """Rolled-out routes the decider keeps on legacy at ``at`` whatever the calendar says (pins)."""
    held: dict[str, str] = {}
    for route in table.routes:
        if not is_rollout(route):
            continue
        trace: dict[str, Any] = {}
        decision = decider.decide(route, phase_at(route.schedule, at)[0], {"method": "GET"}, trace)
        if decision.pinned:
            held[route.id] = str((trace.get("pin") or {}).get("reason", "pinned"))
    return held


def cmd_plan(args: argparse.Namespace, path: str, out: TextIO) -> int:
    table = load_reporting(path, sys.stderr)
    if table is None:
        return 1
    zone = ZoneInfo(table.timezone)
    weeks = build_calendar({r.id: r.schedule for r in table.routes if is_rollout(r)}, zone)
    # the calendar is the phases; the serving decider says which routes a pin holds back now
    decider = offline_decider(table, args.state_dir)
    held = held_on_legacy(table, decider, time.time())
    # which coming flips are on track and which would be held now (the shared flip evidence)
    notes = flip_notes(table, decider.holds, table.board.now())
    if args.json:
        weeks_json = [w.as_json() for w in weeks]
        for week, data in zip(weeks, weeks_json, strict=True):
            for flip, item in zip(week.flips, data["flips"], strict=True):
                item["gate"] = notes.get((flip.route_id, flip.at.timestamp()))
        payload = {"timezone": table.timezone, "weeks": weeks_json, "held": held}
        print(json.dumps(payload, indent=2), file=out)
    else:
        print(f"rollout calendar of {path} ({table.timezone})", file=out)
        out.write(format_calendar(weeks, notes))
        for route_id, reason in held.items():
            print(f"held on legacy until released: {route_id} (pinned: {reason})", file=out)
    return 0


async def _fetch(url: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url, headers=headers)
        response.raise_for_status()
        return response


def cmd_coverage(
    args: argparse.Namespace, path: str, app_default: str, token: str | None, out: TextIO
) -> int:
    table = load_reporting(path, sys.stderr)
    if table is None:
        return 1
    try:
        endpoints = _endpoints(args, app_default)
    except InventoryError as exc:
        print(f"coverage: {exc}", file=sys.stderr)
        return 1
    try:
        zone = ZoneInfo(table.timezone)
        at = time.time() if args.at is None else phase_instant(parse_phase_start(args.at), zone)
    except ValueError as exc:
        print(f"--at: {exc}", file=sys.stderr)
        return 2
    token = args.token or token
    pinned: set[str] = set()
    traffic: dict[str, float] | None = None
    try:
        if args.gateway:
            routes = asyncio.run(_fetch(args.gateway.rstrip("/") + "/_gateway/api/cutover", token)).json()
            pinned = {r["id"] for r in routes["routes"] if r.get("pinned")}
        if args.metrics:
            text = asyncio.run(_fetch(args.metrics, token)).text
            traffic = traffic_from_metrics(text, REQUESTS_METRIC)
    except httpx.HTTPError as exc:
        print(f"coverage: cannot read the running gateway: {exc}", file=sys.stderr)
        return 1
    report = coverage(endpoints, placement_resolver(table, at, pinned), traffic)
    if args.json:
        print(json.dumps(report.as_json(), indent=2), file=out)
    else:
        out.write(format_coverage(report))
    return 0


def _next_week(zone: ZoneInfo) -> str:
    return iso_week_label(datetime.now(zone) + timedelta(days=7))


def cmd_scaffold(args: argparse.Namespace, path: str, app_default: str, out: TextIO) -> int:
    try:
        chosen = select(_endpoints(args, app_default), args.patterns)
    except InventoryError as exc:
        print(f"scaffold: {exc}", file=sys.stderr)
        return 1
    if not chosen:
        print(f"scaffold: no legacy endpoint matches {' '.join(args.patterns)}", file=sys.stderr)
        return 1
    table_file = Path(path)
    taken: set[str] = set()
    timezone = "UTC"
    if table_file.exists():
        table = load_reporting(path, sys.stderr)
        if table is None:
            return 1
        taken = {route.id for route in table.routes}
        timezone = table.timezone
        resolve = placement_resolver(table, time.time(), set())
        routed = [e for e in chosen if resolve(e.method, e.sample_path).route_id is not None]
        for endpoint in routed:
            print(f"scaffold: {endpoint.method} {endpoint.rule} already routed, skipped", file=sys.stderr)
        chosen = [e for e in chosen if e not in routed]
        if not chosen:
            print("scaffold: every chosen endpoint already has a route", file=sys.stderr)
            return 1
    text = scaffold(
        chosen, target=args.target, start=args.start or _next_week(ZoneInfo(timezone)), taken=taken
    )
    if not args.write:
        out.write(text)
        return 0
    return _append(table_file, text, out)


def _append(table_file: Path, entries: str, out: TextIO) -> int:
    """Append to ``routes:`` when it is the file's last top-level key (comments stay untouched)."""
    source = table_file.read_text(encoding="utf-8")
    node = yaml.compose(source)
    if not isinstance(node, yaml.MappingNode) or not node.value:
        print(f"scaffold: {table_file} is not a routing table", file=sys.stderr)
        return 1
    last_key, last_value = node.value[-1]
    if last_key.value != "routes":
        print(f"scaffold: `routes:` must be the last key of {table_file} to append to it", file=sys.stderr)
        return 1
    if isinstance(last_value, yaml.SequenceNode) and last_value.flow_style:
        print(
            f"scaffold: `routes:` of {table_file} is a flow list; write the entries by hand", file=sys.stderr
        )
        return 1
    if isinstance(last_value, yaml.ScalarNode):  # `routes:` with nothing (null) after it
        source = source.rstrip() + "\n"
    candidate = source if source.endswith("\n") else source + "\n"
    candidate += entries
    try:
        parse_table(candidate, source=str(table_file))
    except ConfigError as exc:
        for issue in exc.issues:
            print(str(issue), file=sys.stderr)
        print("scaffold: the table would not be valid; nothing written", file=sys.stderr)
        return 1
    table_file.write_text(candidate, encoding="utf-8")
    print(f"{table_file}: {entries.count('  - id: ')} route(s) appended", file=out)
    return 0
