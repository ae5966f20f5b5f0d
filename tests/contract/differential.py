"""Differential comparison of legacy and services: one request to both, every visible part compared.

A `Probe` is a request spelled exactly (query pairs in order, repeated names, raw cookies,
headers, body bytes), so it can carry what a client library would tidy away: two
`mvidarr_session` cookies, a parameter given twice, Unicode digits in a path. `Differ.compare`
sends it to legacy and to services (twin databases seeded identically), and compares:

- the status;
- every response header except transport ones (`date`, `server`, `connection`, ...), with
  `Set-Cookie` values and expiry dates normalised (each side signs its own cookie, now);
- the body bytes, after normalising what is volatile by nature: each server's origin, values
  written at "now" (timestamps later than the seed), `query_time`, session tokens;
- after a write, the rows of every table of both databases, normalised the same way.

What may differ is decided by the registry (`differences.yaml`, `tests/contract/registry.py`)
and nothing else.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import Engine

from legacy_flask.models import Base as LegacyBase
from tests.contract.registry import Exchange, Registry, Reply

# The rows a client's data lives in: legacy's schema. Tables services add (audit log, API keys,
# refresh tokens) are additive and invisible to legacy, so they are not compared.
LEGACY_TABLES = frozenset(LegacyBase.metadata.tables)

TRANSPORT_HEADERS = frozenset(
    {"date", "server", "connection", "keep-alive", "transfer-encoding", "x-request-id", "content-length"}
)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WRITTEN_NOW = re.compile(rb"20[2-9]\d-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?")
_SEED_YEAR_END = b"2026"
_QUERY_TIME = re.compile(rb'"query_time": ?-?[0-9.e-]+')
# Answers that measure the machine (disk, memory, load, uptime): every number is volatile, the
# shape (keys, types, order, strings) is still compared.
MEASURING_PATHS = ("/api/health/system", "/admin/system/status/service")
_NUMBER = re.compile(rb"(?<=[:\[,])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?=[,}\]])")
VOLATILE_LENGTH_PATHS = ("/api/artists/", *MEASURING_PATHS)
_UPTIME = re.compile(rb'"uptime":"[^"]*"')
# Which processes top the CPU list changes between the two calls as much as their figures do.
_COMMAND = re.compile(rb'"command": ?"(?:[^"\\]|\\.)*"')
_COOKIE_VALUE = re.compile(r"^(mvidarr_session|figway_refresh)=[^;]*")
_EXPIRES = re.compile(r"(?i)expires=[^;]+")
_VOLATILE_COLUMNS = re.compile(r"(token|hash|secret|key_prefix|last_activity|last_login|_at$|timestamp)")


@dataclass(frozen=True)
class Probe:
    method: str
    path: str  # already percent-encoded where needed
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    json: Any = None
    role: str = "anonymous"

    def url(self) -> str:
        if not self.query:
            return self.path
        return self.path + "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.query)

    def exchange(self) -> Exchange:
        return Exchange(
            self.method,
            self.path,
            self.query,
            self.headers,
            self.cookies,
            self.json,
            _registry_role(self.role),
        )

    def describe(self) -> str:
        parts = [f"{self.method} {self.url()}"]
        if self.cookies:
            parts.append("cookies=" + ",".join(f"{k}<{v[:12]}>" for k, v in self.cookies))
        if self.headers:
            parts.append("headers=" + repr(list(self.headers)))
        if self.body is not None:
            parts.append(f"body={self.body[:300]!r}")
        parts.append(f"as={self.role}")
        return " ".join(parts)


def _registry_role(role: str) -> str:
    return {"admin": "ADMIN", "manager": "MANAGER", "user": "USER", "readonly": "READONLY"}.get(
        role, "anonymous"
    )


@dataclass
class Difference:
    probe: Probe
    parts: dict[str, tuple[Any, Any]]  # only the parts the registry does not allow
    data: bool = False  # the stored rows differ

    def render(self) -> str:
        lines = [self.probe.describe() + ("   [DATA DIFFERS]" if self.data else "")]
        for part, (old, new) in self.parts.items():
            lines.append(f"  {part}: legacy {_short(old)}")
            lines.append(f"  {' ' * len(part)}  services {_short(new)}")
        return "\n".join(lines)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 400 else text[:400] + "..."


def _normalise_body(body: bytes, origin: str, path: str = "") -> bytes:
    body = body.replace(origin.encode(), b"ORIGIN")
    if path.startswith(MEASURING_PATHS):
        body = _UPTIME.sub(b'"uptime":"<t>"', _NUMBER.sub(b"<n>", body))
        body = _COMMAND.sub(b'"command":"<c>"', body)
    body = _QUERY_TIME.sub(b'"query_time": <t>', body)
    return _WRITTEN_NOW.sub(lambda m: b"<now>" if m.group(0)[:4] >= _SEED_YEAR_END else m.group(0), body)


def _normalise_header(name: str, value: str, origin: str) -> str:
    value = value.replace(origin, "ORIGIN")
    if name == "allow":  # werkzeug lists the methods from a set: the order changes with the hash seed
        value = ", ".join(sorted(part.strip() for part in value.split(",")))
    if name == "set-cookie":
        value = _COOKIE_VALUE.sub(
            lambda m: m.group(1) + ("=<v>" if "=" in m.group(0)[-1:] else "=<v>"), value
        )
        value = _EXPIRES.sub("Expires=<date>", value)
    return value


def visible_headers(response: httpx.Response, origin: str) -> list[tuple[str, str]]:
    """The headers a client reads, normalised, sorted (transport headers left out)."""
    return sorted(
        (name.lower(), _normalise_header(name.lower(), value, origin))
        for name, value in response.headers.multi_items()
        if name.lower() not in TRANSPORT_HEADERS
    )


@dataclass
class Side:
    client: httpx.Client
    database_url: str
    engine: Engine = field(init=False)
    meta: MetaData | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.engine = create_engine(self.database_url)

    @property
    def origin(self) -> str:
        return str(self.client.base_url).rstrip("/")

    def send(self, probe: Probe) -> tuple[Reply, Reply]:
        """(the raw reply, the reply normalised for comparison)."""
        headers = list(probe.headers)
        if probe.cookies:
            headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in probe.cookies)))
        self.client.cookies.clear()
        response = self.client.request(probe.method, probe.url(), headers=headers, content=probe.body)
        raw = Reply(response.status_code, list(response.headers.multi_items()), response.content)
        headers = visible_headers(response, self.origin)
        if probe.method == "HEAD" and not probe.path.startswith(VOLATILE_LENGTH_PATHS):
            # No body to compare: the length announced is the evidence (unless the GET body
            # holds a volatile value whose digits vary: query_time, the machine's figures).
            headers.append(("content-length", response.headers.get("content-length", "")))
        body = _normalise_body(response.content, self.origin, probe.path)
        return raw, Reply(response.status_code, sorted(headers), body)

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        if self.meta is None:
            self.meta = MetaData()
            self.meta.reflect(self.engine)
        return dump_rows(self.engine, self.meta)

    def close(self) -> None:
        self.engine.dispose()


def dump_rows(engine: Engine, meta: MetaData | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of legacy's tables, by primary key, volatile values normalised."""
    if meta is None:
        meta = MetaData()
        meta.reflect(engine)
    dump: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name not in LEGACY_TABLES:
                continue
            cols = [c for c in table.columns if not _VOLATILE_COLUMNS.search(c.name)]
            rows = conn.execute(select(*cols).order_by(*table.primary_key.columns)).all()
            dump[name] = [tuple(_row_value(v) for v in row) for row in rows]
    return dump


def _row_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return "<now>" if value.year >= 2026 else value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def rows_digest(dump: dict[str, list[tuple[Any, ...]]]) -> dict[str, str]:
    return {name: hashlib.sha256(repr(rows).encode()).hexdigest() for name, rows in dump.items()}


def diff_rows(
    old: dict[str, list[tuple[Any, ...]]], new: dict[str, list[tuple[Any, ...]]]
) -> dict[str, tuple[Any, Any]]:
    found: dict[str, tuple[Any, Any]] = {}
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name, []), new.get(name, [])
        if a != b:
            only_a = [r for r in a if r not in b][:3]
            only_b = [r for r in b if r not in a][:3]
            found[f"rows.{name}"] = (only_a, only_b)
    return found


@dataclass
class Tally:
    compared: int = 0
    matched: int = 0
    allowed: int = 0  # differed only in parts the registry allows
    by_part: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)

    def add(self, difference: Difference | None, allowed: bool) -> None:
        self.compared += 1
        if difference is None:
            self.matched += 1
            return
        if allowed:
            self.allowed += 1
            return
        for part in difference.parts:
            key = part.split(".")[0] if part.startswith("rows.") else part
            self.by_part[key] = self.by_part.get(key, 0) + 1
        self.differences.append(difference)

    def summary(self) -> str:
        rate = 100.0 * (self.matched + self.allowed) / self.compared if self.compared else 0.0
        data = sum(1 for d in self.differences if d.data)
        return (
            f"compared {self.compared} requests: {self.matched} identical, {self.allowed} identical but for "
            f"differences.yaml, {len(self.differences)} differing ({rate:.1f}% match; "
            f"{data} differing in stored rows); by part: {dict(sorted(self.by_part.items()))}"
        )


@dataclass
class Differ:
    legacy: Side
    services: Side
    registry: Registry
    tally: Tally = field(default_factory=Tally)
    compare_rows: bool = True
    # Row differences already reported: once the twins diverge they stay so; only a new
    # divergence is a new difference.
    known_rows: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def compare(self, probe: Probe) -> Difference | None:
        old_raw, old = self.legacy.send(probe)
        _, new = self.services.send(probe)
        exchange = probe.exchange()
        allowed = self.registry.allowed(exchange, old_raw)
        parts: dict[str, tuple[Any, Any]] = {}
        if old.status != new.status:
            parts["status"] = (old.status, new.status)
        if old.body != new.body:
            parts["body"] = (old.body, new.body)
        old_h, new_h = dict(_grouped(old.headers)), dict(_grouped(new.headers))
        for name in sorted(set(old_h) | set(new_h)):
            if old_h.get(name) != new_h.get(name):
                parts[f"headers.{name}"] = (old_h.get(name), new_h.get(name))
        data = False
        if self.compare_rows and probe.method in WRITE_METHODS:
            rows = diff_rows(self.legacy.rows(), self.services.rows())
            fresh = {k: v for k, v in rows.items() if self.known_rows.get(k) != v}
            self.known_rows = rows
            data = bool(fresh)
            parts.update(fresh)
        if not parts:
            self.tally.add(None, False)
            return None
        unexplained = {p: v for p, v in parts.items() if not _allowed(p, allowed)}
        for violation in self.registry.violations(exchange, old_raw, new):
            unexplained[f"registry:{violation}"] = (None, None)
        difference = Difference(probe, unexplained, data)
        self.tally.add(difference, allowed=not unexplained)
        return difference if unexplained else None


def _grouped(headers: Sequence[tuple[str, str]]) -> Iterable[tuple[str, tuple[str, ...]]]:
    names = sorted({k for k, _ in headers})
    return ((n, tuple(v for k, v in headers if k == n)) for n in names)


def _allowed(part: str, allowed: set[str]) -> bool:
    return part in allowed or (part.startswith("rows.") and "rows" in allowed)


def minimise(probe: Probe, still_differs: Callable[[Probe], bool]) -> Probe:
    """Drop query pairs, headers, cookies and body keys one at a time while the difference stays."""
    current = probe
    changed = True
    while changed:
        changed = False
        for candidate in _smaller(current):
            if still_differs(candidate):
                current, changed = candidate, True
                break
    return current


def _smaller(probe: Probe) -> Iterable[Probe]:
    for i in range(len(probe.query)):
        yield replace(probe, query=probe.query[:i] + probe.query[i + 1 :])
    for i in range(len(probe.headers)):
        yield replace(probe, headers=probe.headers[:i] + probe.headers[i + 1 :])
    for i in range(len(probe.cookies)):
        yield replace(probe, cookies=probe.cookies[:i] + probe.cookies[i + 1 :])
    if isinstance(probe.json, dict):
        import json

        for key in list(probe.json):
            smaller = {k: v for k, v in probe.json.items() if k != key}
            yield replace(probe, json=smaller, body=json.dumps(smaller).encode())
