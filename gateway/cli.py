"""``python -m gateway serve|check|explain`` (and the commands of ``cutover_cli`` and ``history_cli``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError

from gateway import cutover_cli, history_cli
from gateway.compiler import CompiledTable
from gateway.errors import ConfigError, ConfigIssue
from gateway.explain import explain
from gateway.loader import load_table
from gateway.revert import HistoryError
from gateway.rollout import phase_instant
from gateway.routing_schema import parse_phase_start

DEFAULT_CONFIG = "routing.yaml"


def _config_default() -> str:
    return os.environ.get("GATEWAY_ROUTING_FILE", DEFAULT_CONFIG)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway", description="figway strangler-fig gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway (uvicorn)")
    serve.add_argument("--config", help="routing table (default: $GATEWAY_ROUTING_FILE or routing.yaml)")
    serve.add_argument("--host", help="bind address (default: $GATEWAY_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: $GATEWAY_PORT or 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default: 1)")
    check = commands.add_parser("check", help="validate a routing table")
    check.add_argument(
        "file", nargs="?", help="routing table (default: $GATEWAY_ROUTING_FILE or routing.yaml)"
    )
    check.add_argument("--json", action="store_true", help="print JSON")
    check.add_argument(
        "--upstreams",
        action="store_true",
        help="also read each upstream's OpenAPI document (`openapi:` in the table) and report every "
        "path and method a route would send its target that the target does not serve",
    )
    check.add_argument(
        "--app", help="legacy app factory whose endpoints the routes send (default: $GATEWAY_LEGACY_APP)"
    )
    check.add_argument("--endpoints", help="exported JSON list of legacy endpoints instead of the app")
    explain = commands.add_parser("explain", help="which route, mode and upstream a request gets, and why")
    explain.add_argument("--config", help="routing table (default: $GATEWAY_ROUTING_FILE or routing.yaml)")
    explain.add_argument("method")
    explain.add_argument("path")
    explain.add_argument("--at", help="ISO date-time or ISO week (2026-W50) to evaluate the rollout at")
    explain.add_argument(
        "--header", action="append", default=[], help="a request header 'Name: value' (identity, override)"
    )
    explain.add_argument("--client", help="the client address (the identity of last resort)")
    explain.add_argument("--state-dir", type=Path, help="where pins are kept (default: $GATEWAY_STATE_DIR)")
    explain.add_argument("--json", action="store_true", help="print JSON")
    cutover_cli.add_commands(commands, "$GATEWAY_ROUTING_FILE or routing.yaml")
    history_cli.add_commands(commands, "$GATEWAY_ROUTING_FILE or routing.yaml")
    return parser


def _errors(exc: ConfigError) -> list[dict[str, Any]]:
    return [{"file": i.file, "line": i.line, "route": i.route, "message": i.message} for i in exc.issues]


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    path = args.file or _config_default()
    try:
        table = load_table(path)
    except ConfigError as exc:
        if args.json:
            print(json.dumps({"ok": False, "file": path, "errors": _errors(exc)}, indent=2), file=out)
        else:
            for issue in exc.issues:
                print(str(issue), file=out)
            print(f"{path}: {len(exc.issues)} error(s)", file=out)
        return 1
    if args.upstreams:
        issues = _target_issues(table, args)
        if issues:
            if args.json:
                errors = [{"line": i.line, "route": i.route, "message": i.message} for i in issues]
                print(json.dumps({"ok": False, "file": path, "errors": errors}, indent=2), file=out)
            else:
                for issue in issues:
                    print(str(issue), file=out)
                print(f"{path}: {len(issues)} error(s)", file=out)
            return 1
    summary = {
        "ok": True,
        "file": path,
        "upstreams": len(table.upstreams),
        "routes": len(table.routes),
        "default": table.default,
        "sha256": table.sha256,
    }
    if args.json:
        print(json.dumps(summary, indent=2), file=out)
    else:
        print(
            f"{path}: OK, {len(table.routes)} route(s), {len(table.upstreams)} upstream(s), "
            f"default {table.default}, sha256 {table.sha256[:12]}",
            file=out,
        )
    return 0


def _parse_when(value: str, timezone: str) -> float:
    return phase_instant(parse_phase_start(value), ZoneInfo(timezone))


def _target_issues(table: CompiledTable, args: argparse.Namespace) -> list[ConfigIssue]:
    """Routes whose target's OpenAPI document lacks what they send it (see ``gateway.target_check``)."""
    from gateway.inventory import InventoryError, load_exported, load_url_map
    from gateway.settings import GatewaySettings
    from gateway.target_check import check_targets, fetch_documents

    documents, issues = fetch_documents(table)
    try:
        if args.endpoints:
            endpoints = load_exported(Path(args.endpoints))
        else:
            endpoints = asyncio.run(load_url_map(args.app or GatewaySettings().legacy_app, cwd=Path.cwd()))
    except InventoryError as exc:
        return [*issues, ConfigIssue(table.source, None, None, f"legacy endpoints: {exc}")]
    return [*issues, *check_targets(table, documents, endpoints)]


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    table = cutover_cli.load_reporting(args.config or _config_default(), sys.stderr)
    if table is None:
        return 1
    try:
        at = None if args.at is None else _parse_when(args.at, table.timezone)
    except ValueError as exc:
        print(f"--at: {exc}", file=sys.stderr)
        return 2
    headers = []
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            print(f"--header: {item!r} is not 'Name: value'", file=sys.stderr)
            return 2
        headers.append((name.strip().lower().encode("latin-1"), value.strip().encode("latin-1")))
    decider = cutover_cli.offline_decider(table, args.state_dir)
    result = explain(
        table, decider, args.method, args.path, at=at, headers=tuple(headers), client=args.client
    ).as_dict()
    if args.json:
        print(json.dumps(result, indent=2), file=out)
        return 0 if result["error"] is None else 1
    if result["error"]:
        print(f"{args.method.upper()} {args.path}: rejected ({result['error']})", file=out)
        return 1
    print(
        f"{result['method']} {result['path']} -> route {result['route']}, mode {result['mode']}, "
        f"upstream {result['upstream']} ({result['upstream_url']})",
        file=out,
    )
    hold = result["hold"]
    if hold is not None:
        print(f"  HELD in {hold['serving']} (the calendar says {hold['calendar']}): {hold['why']}", file=out)
        print(f"    requires: {hold['requires']}", file=out)
        print(f"    missing: {hold['missing'] or '-'}", file=out)
        print(f"    evidence: {hold['evidence']}", file=out)
    for name, value in result["inputs"].items():
        print(f"  input {name}: {json.dumps(value)}", file=out)
    if result["why"]:
        print(f"  side {result['side']} because: {result['why']}", file=out)
    if result["forwarded_path"] != args.path.split("?", 1)[0]:
        print(f"  forwarded path: {result['forwarded_path']}", file=out)
    if result["next_flip"] is not None:
        flip = datetime.fromtimestamp(result["next_flip"], UTC).isoformat()
        print(f"  next flip: {flip}", file=out)
    for policy in result["rate_limits"]:
        print(
            f"  rate limit {policy['name']}: {policy['limit']} requests per {policy['window_seconds']:g}s "
            f"(burst {policy['burst']}) per {policy['key']}; 429 with Retry-After beyond it",
            file=out,
        )
    if not result["considered"]:
        print("  no route template matches this path: the default upstream answers", file=out)
    for candidate in result["considered"]:
        methods = ",".join(candidate["methods"]) if candidate["methods"] else "any"
        print(
            f"  considered {candidate['route']} {candidate['path']} [{methods}]: {candidate['verdict']}",
            file=out,
        )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    # The settings object is built in each worker from the environment, so CLI flags travel through it.
    for flag, variable in (
        ("config", "GATEWAY_ROUTING_FILE"),
        ("host", "GATEWAY_HOST"),
        ("port", "GATEWAY_PORT"),
        ("workers", "GATEWAY_WORKERS"),
    ):
        value = getattr(args, flag)
        if value is not None:
            os.environ[variable] = str(value)
    from gateway.settings import GatewaySettings

    settings = GatewaySettings()
    try:
        load_table(settings.routing_file)
    except ConfigError as exc:
        for issue in exc.issues:
            print(str(issue), file=sys.stderr)
        return 1
    import uvicorn

    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="auto",  # uvloop when installed
        http="auto",  # httptools when installed
        lifespan="on",
        access_log=False,  # the gateway writes its own proxy.request events
        server_header=False,  # the upstream's Server and Date pass through instead
        date_header=False,
        proxy_headers=False,  # X-Forwarded-* are handled by the gateway (trusted_proxies)
        h11_max_incomplete_event_size=settings.max_header_bytes,
        log_level=settings.log_level,
        # SIGTERM: stop accepting, let in-flight requests finish for this long, then close (pools too).
        timeout_graceful_shutdown=settings.shutdown_timeout,
    )
    return 0


def _cutover_command(args: argparse.Namespace, out: TextIO) -> int:
    from gateway.settings import GatewaySettings

    settings = GatewaySettings()
    token = settings.admin_token.get_secret_value() if settings.admin_token is not None else None
    if args.command == "plan":
        return cutover_cli.cmd_plan(args, args.file or _config_default(), out)
    path = args.config or _config_default()
    if args.command == "coverage":
        return cutover_cli.cmd_coverage(args, path, settings.legacy_app, token, out)
    return cutover_cli.cmd_scaffold(args, path, settings.legacy_app, out)


def _history_command(args: argparse.Namespace, out: TextIO) -> int:
    config = Path(args.config or _config_default())
    try:
        if args.command == "history":
            return history_cli.cmd_history(args, config, out)
        return history_cli.cmd_revert(args, config, out, sys.stderr)
    except HistoryError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1
    except (OSError, RedisError) as exc:  # the revisions' store: a state directory not ours, Redis down
        print(f"{args.command}: cannot reach the revisions: {exc}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    if args.command == "check":
        return cmd_check(args, out)
    if args.command == "explain":
        return cmd_explain(args, out)
    if args.command in ("plan", "coverage", "scaffold"):
        return _cutover_command(args, out)
    if args.command in ("history", "revert"):
        return _history_command(args, out)
    return cmd_serve(args)
