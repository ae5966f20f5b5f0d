"""Generate ``docs/configuration.md`` from the settings models, so the reference cannot drift.

    python -m tools.configdoc            # rewrite docs/configuration.md
    python -m tools.configdoc --check    # exit 1 when the committed file is out of date

Sources: ``gateway.settings.GatewaySettings``, ``services.settings.Settings``, the routing-table
models in ``gateway.routing_schema`` and the legacy app's environment (``legacy_flask.config`` plus the
few variables its modules read directly, listed in ``LEGACY_EXTRA``; a test checks the list).
A field's description is its ``Field(description=...)`` or the comment above or beside it.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
import types
import typing
from collections.abc import Iterable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "configuration.md"

#: Variables the legacy app reads outside ``legacy_flask.config.load_config`` (name, default, meaning).
LEGACY_EXTRA: tuple[tuple[str, str, str], ...] = (
    ("SYSTEM_COMMAND_TIMEOUT", "10", "seconds before a system command is abandoned"),
    ("RESTART_DELAY", "1.0", "seconds between answering a restart request and starting it"),
    ("MVIDARR_LOG_FILE", "var/legacy.log", "log file the admin log tail reads"),
    ("MVIDARR_RESTART_ALLOWLIST", "", "extra allowed restart commands (JSON list of argv lists)"),
)
#: Meanings for fields whose source has no comment (model name, field name) -> text. A test checks
#: that every key still names a field, so a rename cannot leave a stale line behind.
MEANINGS: dict[tuple[str, str], str] = {
    ("GatewaySettings", "routing_file"): "the routing table (`--config` overrides it)",
    ("GatewaySettings", "host"): "bind address (`--host`)",
    ("GatewaySettings", "port"): "port (`--port`)",
    (
        "GatewaySettings",
        "workers",
    ): "worker processes (`--workers`); each loads the table and follows reloads",
    ("GatewaySettings", "request_id_header"): "header carrying the request id both ways (kept or generated)",
    ("GatewaySettings", "access_log"): "one `proxy.request` JSON line per request",
    ("GatewaySettings", "log_format"): "`auto`: console on a terminal, JSON otherwise",
    ("GatewaySettings", "log_level"): "log level of the gateway and uvicorn",
    ("GatewaySettings", "shadow_workers"): "concurrent mirrored requests",
    ("GatewaySettings", "breaker_reset"): "seconds an open breaker waits before a probe request",
    ("RoutingTable", "version"): "schema version",
    ("RoutingTable", "timezone"): "zone of the rollout dates (ISO weeks start Monday 00:00 here)",
    ("RoutingTable", "upstreams"): "named upstreams (legacy app, services...)",
    ("RoutingTable", "default"): "upstream for every request no route matches",
    ("RoutingTable", "routes"): "the routes; the most specific template wins",
    ("Upstream", "url"): "`http(s)://host[:port]`, no path (`GATEWAY_UPSTREAM_<NAME>_URL` overrides it)",
    ("Upstream", "health"): "path of the active health check (breaker and dashboard)",
    ("Timeouts", "connect"): "connecting to the upstream (failure: 502, or fallback)",
    ("Timeouts", "read"): "waiting for each read of the answer (failure: 504)",
    ("Timeouts", "write"): "sending the request body when the upstream stops reading (504)",
    ("Timeouts", "pool"): "waiting for a free pooled connection",
    (
        "PoolLimits",
        "keepalive",
    ): "seconds an idle pooled connection is kept (below the upstream's keep-alive)",
    ("Route", "id"): "stable name used in logs, metrics, the admin API and pins",
    ("Route", "path"): "template: static segments, `{name}`, `{name:int}`, trailing `{rest:path}`",
    ("Route", "methods"): "methods matched (all when left out)",
    ("Route", "to"): "plain cutover: every matching request goes to this upstream",
    ("Route", "target"): "the new side of a rollout (needs `rollout`)",
    ("Route", "rollout"): "phases by date: `legacy`, `shadow`, `canary` with `percent`, `live`",
    ("Route", "fallback"): "upstream retried when the target was never reached, or (safe methods) failed",
    ("Route", "guard"): "automatic pin back to legacy when the target misbehaves",
    ("Route", "shadow"): "diff options for shadow phases (safe methods only)",
    ("Phase", "start"): "an ISO week (`2026-W50`) or ISO date-time; the phase starts then",
    ("Phase", "mode"): "who answers during the phase",
    ("Phase", "percent"): "canary share of clients (sticky per user or client)",
    ("Phase", "requires"): "evidence the phase waits for (`shadow`, `canary`); absent: the table's `evidence`"
    " or the defaults; `none`: its date alone",
    ("RoutingTable", "evidence"): "defaults for phases without `requires` (`shadow`, `canary`);"
    " `none`: dates alone",
    ("ShadowEvidence", "min_compared"): "shadow comparisons needed before the phase after the shadow one",
    ("ShadowEvidence", "max_diff_rate"): "share of them with a real difference (`1%` or `0.01`)",
    ("CanaryEvidence", "min_requests"): "canary requests answered by the target",
    ("CanaryEvidence", "error_rate_margin"): "target error rate at most legacy's plus this (`1%`)",
    ("CanaryEvidence", "p99_margin"): "target p99 at most legacy's plus this share of it (`25%`)",
    ("GuardRule", "max_error_rate"): "pin when the target's error rate (5xx or no answer) passes this share",
    ("GuardRule", "min_requests"): "requests in the window before the guard judges",
    ("GuardRule", "window"): "sliding window length (`60s`, `5m`)",
    ("GuardRule", "max_p99"): "also pin when the p99 latency passes this (`800ms`)",
    ("Shadow", "percent"): "share of safe requests mirrored",
    ("Shadow", "learn_noise"): "ignore fields that differ between two legacy answers to the same request",
    ("Upstream", "openapi"): "path of its OpenAPI document; `check --upstreams` checks the routes with it",
    ("Route", "rate_limit"): "one rate-limit policy or a list of them; a request over any of them gets 429",
    ("RateLimit", "limit"): "requests admitted per `window` at the sustained rate",
    ("RateLimit", "window"): "`10s`, `1m`, `1h`, `1d` (at most a day)",
    ("RateLimit", "key"): "whose budget: `address` (through trusted proxies), `user`, `api_key`,"
    " `header:<Name>`; a request without it spends its address's",
    ("RateLimit", "burst"): "requests that may arrive at once (default: `limit`)",
}

LEGACY_MEANINGS = {
    "DATABASE_URL": "shared database (`sqlite:///...` or `mysql+pymysql://...`); default `var/figway.db`",
    "SECRET_KEY": "signs the `mvidarr_session` cookie (env `MVIDARR_SECRET_KEY`); shared with services",
    "FIGWAY_DEMO_PASSWORD": "password of the seeded demo users",
}


# -- descriptions from source comments --------------------------------------------------------


def _comments(cls: type) -> dict[str, str]:
    """Field name -> the ``#:``/``#`` comment block above it, or the comment at the end of its line."""
    lines, _ = inspect.getsourcelines(cls)
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0]
    assert isinstance(body, ast.ClassDef)
    found: dict[str, str] = {}
    for node in body.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        index = node.lineno - 1
        above: list[str] = []
        cursor = index - 1
        while cursor >= 0 and lines[cursor].strip().startswith("#"):
            comment = lines[cursor].strip().lstrip("#:").strip()
            if comment.startswith("--"):  # a section banner, not this field's description
                break
            above.insert(0, comment)
            cursor -= 1
        end = (node.end_lineno or node.lineno) - 1
        inline = lines[end].split("  # ", 1)[1].strip() if "  # " in lines[end] else ""
        inline = re.sub(r"^noqa: \S+( - )?", "", inline)
        text = " ".join(part for part in above if part) or inline
        if text:
            found[node.target.id] = text
    return found


def _descriptions(model: type[BaseModel]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if (
            cls in (BaseModel, object)
            or not issubclass(cls, BaseModel)
            or cls.__module__.startswith("pydantic")
        ):
            continue
        merged.update(_comments(cls))
        merged.update({field: text for (owner, field), text in MEANINGS.items() if owner == cls.__name__})
    return {name: text.replace("``", "`") for name, text in merged.items()}


# -- rendering ----------------------------------------------------------------------------------


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{arg}`" for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(dict.fromkeys(_type_name(arg) for arg in args))
    if origin in (tuple, list):
        inner = [a for a in args if a is not Ellipsis]
        return f"list of {_type_name(inner[0])}" if inner else "list"
    if origin is dict:
        return f"map of {_type_name(args[1])}"
    if annotation is type(None):
        return "none"
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return " \\| ".join(f"`{member.value}`" for member in annotation)
        return {
            "str": "string",
            "int": "integer",
            "float": "number",
            "bool": "boolean",
            "Path": "path",
            "SecretStr": "secret",
            "IPv4Network": "network",
            "IPv6Network": "network",
            "datetime": "date-time",
        }.get(annotation.__name__, annotation.__name__)
    return str(annotation).replace("typing.", "")


def _default(field: FieldInfo) -> str:
    value = field.default
    if value is PydanticUndefined:
        return "**required**" if field.default_factory is None else "(computed)"
    if isinstance(value, SecretStr):
        return "(empty)" if not value.get_secret_value() else "(development value; set in production)"
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, tuple | list):
        return "`" + ", ".join(str(v) for v in value) + "`" if value else "(empty)"
    text = str(value).replace(str(ROOT), "<repo>")
    return f"`{text}`" if text != "" else "(empty)"


def _env_names(name: str, field: FieldInfo, prefix: str) -> list[str]:
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return [str(choice).upper() for choice in choices]
    return [f"{prefix}{name}".upper()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_table(model: type[BaseModel], prefix: str) -> list[str]:
    notes = _descriptions(model)
    rows = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        names = " or ".join(f"`{env}`" for env in _env_names(name, field, prefix))
        meaning = field.description or notes.get(name, "")
        rows.append(f"| {names} | {_type_name(field.annotation)} | {_default(field)} | {_cell(meaning)} |")
    return rows


def model_table(model: type[BaseModel]) -> list[str]:
    notes = _descriptions(model)
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = field.alias or name
        meaning = field.description or notes.get(name, "")
        rows.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {_cell(meaning)} |")
    return rows


def _legacy_rows() -> list[str]:
    from legacy_flask.config import DEFAULT_DEMO_PASSWORD, PROVIDER_DEFAULTS

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows.append(f"| `DATABASE_URL` | `sqlite:///<repo>/var/figway.db` | {LEGACY_MEANINGS['DATABASE_URL']} |")
    rows.append(
        f"| `MVIDARR_SECRET_KEY` | (development value; set in production) | {LEGACY_MEANINGS['SECRET_KEY']} |"
    )
    rows.append(
        f"| `FIGWAY_DEMO_PASSWORD` | `{DEFAULT_DEMO_PASSWORD}` | {LEGACY_MEANINGS['FIGWAY_DEMO_PASSWORD']} |"
    )
    for key, default in PROVIDER_DEFAULTS.items():
        meaning = (
            "provider credential (a non-empty value in the settings table wins)"
            if not default
            else "provider endpoint"
        )
        rows.append(f"| `{key}` | {f'`{default}`' if default else '(empty)'} | {meaning} |")
    for key, default, meaning in LEGACY_EXTRA:
        rows.append(f"| `{key}` | {f'`{default}`' if default else '(empty)'} | {meaning} |")
    return rows


def _section(title: str, intro: str, rows: Iterable[str]) -> list[str]:
    return [f"## {title}", "", intro, "", *rows, ""]


def render() -> str:
    from gateway import routing_schema as routing
    from gateway.gates.schema import CanaryEvidence, ShadowEvidence
    from gateway.ratelimit.policy import RateLimit
    from gateway.settings import GatewaySettings
    from gateway.upstream_env import PREFIX, SUFFIX
    from services.settings import Settings

    out = [
        "# Configuration reference",
        "",
        "<!-- Generated by `python -m tools.configdoc` from the settings models; do not edit by hand.",
        "     tests/tools/test_configdoc.py fails when this file is out of date. -->",
        "",
        "Every setting of the three programs is an environment variable (a `.env` file in the working",
        'directory is read too). Names are case-insensitive. Lists are JSON (`["a", "b"]`) unless',
        "the meaning says otherwise. docker-compose passes them through from `.env` (see `.env.example`).",
        "",
    ]
    out += _section(
        "Gateway (`python -m gateway serve`)",
        "Prefix `GATEWAY_`. The routing table itself is `routing.yaml` (below); these settings are"
        " per process.",
        [
            *settings_table(GatewaySettings, "GATEWAY_"),
            f"| `{PREFIX}<NAME>{SUFFIX}` | string | unset | replaces `upstreams.<name>.url` of the routing"
            " table at every load (name upper-cased, other characters as `_`); a name that is not an"
            " upstream is a load error |",
        ],
    )
    routing_models: Sequence[tuple[str, type[BaseModel]]] = (
        ("top level", routing.RoutingTable),
        ("`upstreams.<name>`", routing.Upstream),
        ("`upstreams.<name>.timeout` (seconds, or `250ms`, `5s`, `1m`)", routing.Timeouts),
        ("`upstreams.<name>.pool`", routing.PoolLimits),
        ("`routes[]`", routing.Route),
        ("`routes[].rollout[]`", routing.Phase),
        ("`routes[].guard`", routing.GuardRule),
        ("`routes[].shadow`", routing.Shadow),
        ("`evidence.shadow`, `routes[].rollout[].requires.shadow` (flip evidence)", ShadowEvidence),
        ("`evidence.canary`, `routes[].rollout[].requires.canary` (flip evidence)", CanaryEvidence),
        ("`routes[].rate_limit` (one policy or a list; GCRA, shared through Redis)", RateLimit),
    )
    out += [
        "## Routing table (`routing.yaml`)",
        "",
        "Unknown keys are errors. Validate with `python -m gateway check`.",
        "",
    ]
    for title, model in routing_models:
        out += [f"### {title}", "", *model_table(model), ""]
    out += _section(
        "Services (`python -m services serve|migrate`)",
        "No prefix: the names are shared with the legacy app where both read the same thing.",
        settings_table(Settings, ""),
    )
    out += _section(
        "Legacy app (`python -m legacy_flask`, `gunicorn legacy_flask.wsgi:app`)",
        "Read from the environment as MVidarr does (`legacy_flask/config.py`).",
        _legacy_rows(),
    )
    return "\n".join(out).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.configdoc", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/configuration.md is stale")
    parser.add_argument("--output", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m tools.configdoc", file=sys.stderr)
            return 1
        print(f"{args.output}: up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
