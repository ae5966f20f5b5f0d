"""The registry of deliberate differences (`differences.yaml` at the repository root): load, validate, match.

The contract tests and the differential fuzzer compare every part of legacy's and services'
answers; a part may differ only when an entry's matcher says so for that request and those
answers. `load()` refuses a malformed file (unknown keys, bad kinds, duplicate ids, path rules
werkzeug cannot compile), so a typo never silently allows a difference.

    registry = load()
    parts = registry.allowed(exchange, legacy, services)   # e.g. {"body", "status"}
    problems = registry.violations(exchange, legacy, services)  # entries whose `services` demand fails
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from werkzeug.routing import Map, RequestRedirect, Rule

REGISTRY_FILE = Path(__file__).resolve().parents[2] / "differences.yaml"
ROLES = ("ADMIN", "MANAGER", "USER", "READONLY", "anonymous")
PART = re.compile(r"^(status|body|content-type|rows|headers\.[a-z0-9-]+)$")
METHODS = {"*", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestMatch(_Strict):
    headers_present: tuple[str, ...] = ()
    headers_absent: tuple[str, ...] = ()
    query_present: tuple[str, ...] = ()
    cookie_repeated: tuple[str, ...] = ()
    body_keys: tuple[str, ...] = ()
    as_role: tuple[Literal["ADMIN", "MANAGER", "USER", "READONLY", "anonymous"], ...] = ()


class LegacyMatch(_Strict):
    status: tuple[int, ...] = ()
    body_regex: str | None = None

    @field_validator("body_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"body_regex {value!r}: {exc}") from exc
        return value


class ServicesDemand(_Strict):
    status: tuple[int, ...] = ()
    body: str | None = None


class Matcher(_Strict):
    request: RequestMatch = RequestMatch()
    legacy: LegacyMatch = LegacyMatch()
    services: ServicesDemand = ServicesDemand()
    allow: tuple[str, ...] = Field(min_length=1)

    @field_validator("allow")
    @classmethod
    def _parts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for part in value:
            if not PART.match(part):
                raise ValueError(f"allow: {part!r} is not status, body, content-type, rows or headers.<name>")
        return value


class Entry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    method: str
    path: str
    condition: str = Field(min_length=10)
    difference: str = Field(min_length=10)
    reason: str = Field(min_length=10)
    kind: Literal["security", "error-hygiene", "headers", "validation"]
    issue: int = Field(gt=0)
    match: Matcher

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if value not in METHODS:
            raise ValueError(f"method {value!r}: one of {sorted(METHODS)}")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if value != "*":
            try:
                Map([Rule(value)])
            except (LookupError, ValueError) as exc:  # werkzeug cannot compile the rule
                raise ValueError(f"path {value!r}: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _rows_only_for_security(self) -> Entry:
        if "rows" in self.match.allow and self.kind != "security":
            raise ValueError(f"{self.id}: only a security entry may let the stored rows differ")
        return self

    @cached_property
    def _urls(self) -> object:
        return Map([Rule(self.path, endpoint="x")], strict_slashes=False).bind("localhost")

    def covers_path(self, path: str) -> bool:
        if self.path == "*":
            return True
        try:
            self._urls.match(path, method="GET")  # type: ignore[attr-defined]
        except RequestRedirect:  # the rule takes the path once its repeated slashes are merged
            return True
        except Exception:
            return False
        return True


@dataclass(frozen=True)
class Exchange:
    """One request as the tests sent it (to both sides alike)."""

    method: str
    path: str
    query: Sequence[tuple[str, str]] = ()
    headers: Sequence[tuple[str, str]] = ()
    cookies: Sequence[tuple[str, str]] = ()
    body: object = None
    role: str = "anonymous"


@dataclass(frozen=True)
class Reply:
    """One side's answer: status, headers (lower-case names), body bytes."""

    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


def _request_matches(match: RequestMatch, exchange: Exchange) -> bool:
    names = {k.lower() for k, _ in exchange.headers}
    query = {k for k, _ in exchange.query}
    cookie_names = [k for k, _ in exchange.cookies]
    return (
        all(h.lower() in names for h in match.headers_present)
        and not any(h.lower() in names for h in match.headers_absent)
        and all(q in query for q in match.query_present)
        and all(cookie_names.count(c) > 1 for c in match.cookie_repeated)
        and all(isinstance(exchange.body, dict) and k in exchange.body for k in match.body_keys)
        and (not match.as_role or exchange.role in match.as_role)
    )


def _legacy_matches(match: LegacyMatch, legacy: Reply) -> bool:
    if match.status and legacy.status not in match.status:
        return False
    text = legacy.body.decode("utf-8", "replace")
    return match.body_regex is None or re.search(match.body_regex, text) is not None


@dataclass
class Registry:
    entries: tuple[Entry, ...]
    source: Path = field(default=REGISTRY_FILE)

    def applicable(self, exchange: Exchange, legacy: Reply) -> list[Entry]:
        return [
            entry
            for entry in self.entries
            if entry.method in ("*", exchange.method)
            and entry.covers_path(exchange.path)
            and _request_matches(entry.match.request, exchange)
            and _legacy_matches(entry.match.legacy, legacy)
        ]

    def allowed(self, exchange: Exchange, legacy: Reply) -> set[str]:
        """The answer parts that may differ for this request and legacy's answer."""
        return {part for entry in self.applicable(exchange, legacy) for part in entry.match.allow}

    def violations(self, exchange: Exchange, legacy: Reply, services: Reply) -> list[str]:
        """Applicable entries whose `services` demand the services answer does not meet."""
        found = []
        for entry in self.applicable(exchange, legacy):
            demand = entry.match.services
            if demand.status and services.status not in demand.status:
                expected = list(demand.status)
                found.append(f"{entry.id}: services answered {services.status}, the entry says {expected}")
            if demand.body is not None and services.body.decode("utf-8", "replace") != demand.body:
                found.append(f"{entry.id}: services body {services.body[:200]!r} is not the entry's body")
        return found

    def ids(self) -> list[str]:
        return [entry.id for entry in self.entries]


class RegistryFile(_Strict):
    version: Literal[1]
    differences: tuple[Entry, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> RegistryFile:
        seen: set[str] = set()
        for entry in self.differences:
            if entry.id in seen:
                raise ValueError(f"duplicate id {entry.id!r}")
            seen.add(entry.id)
        return self


def parse(text: str, source: Path = REGISTRY_FILE) -> Registry:
    data = yaml.safe_load(text)
    return Registry(RegistryFile.model_validate(data).differences, source)


def load(path: Path = REGISTRY_FILE) -> Registry:
    return parse(path.read_text(encoding="utf-8"), path)


def entries_by_kind(registry: Registry) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {}
    for entry in registry.entries:
        kinds.setdefault(entry.kind, []).append(entry.id)
    return kinds


def describe(entries: Iterable[Entry]) -> str:
    return "\n".join(f"{e.id} ({e.kind}, #{e.issue}): {e.method} {e.path}: {e.difference}" for e in entries)
