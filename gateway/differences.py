"""The registry of deliberate differences (``differences.yaml`` at the repository root), as the
shadow diff applies it: a difference an entry allows for that request and those answers is not
evidence that a client could tell the sides apart, so it is excused rather than counted.

The file is shared with the contract tests (``tests/contract/registry.py`` holds the strict
validator; its header documents the schema). The gateway reads it itself, as plain YAML, because it
never imports ``tests/`` or ``services/``. What the gateway cannot know it reads conservatively:
``as_role`` holds for ``anonymous`` when the request carries no credential, and for any other role
when it carries one (the gateway does not verify sessions); ``body_keys`` never holds for a mirrored
request, which has no body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.errors import ConfigError, ConfigIssue

DEFAULT_FILE = Path("differences.yaml")
_CREDENTIALS = ("authorization", "x-api-key")
_SESSION_COOKIE = "mvidarr_session"
#: werkzeug's converters as regular expressions (``<int:id>``, ``<path:rest>``, ``<name>``).
_CONVERTERS = {
    "int": r"\d+",
    "float": r"\d+\.\d+",
    "path": r"[^/].*?",
    "string": r"[^/]+",
    "uuid": r"[0-9a-fA-F-]{36}",
}
_PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


class _Model(BaseModel):
    # Unknown keys are the contract tests' business (their validator is strict); the gateway reads
    # the keys it applies and ignores the rest, so a new key there never breaks a running gateway.
    model_config = ConfigDict(extra="ignore", frozen=True)


class RequestMatch(_Model):
    headers_present: tuple[str, ...] = ()
    headers_absent: tuple[str, ...] = ()
    query_present: tuple[str, ...] = ()
    cookie_repeated: tuple[str, ...] = ()
    body_keys: tuple[str, ...] = ()
    as_role: tuple[Literal["ADMIN", "MANAGER", "USER", "READONLY", "anonymous"], ...] = ()


class LegacyMatch(_Model):
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


class ServicesDemand(_Model):
    status: tuple[int, ...] = ()
    body: str | None = None


class Match(_Model):
    request: RequestMatch = RequestMatch()
    legacy: LegacyMatch = LegacyMatch()
    services: ServicesDemand = ServicesDemand()
    allow: tuple[str, ...] = Field(min_length=1)


class Entry(_Model):
    id: str
    method: str
    path: str
    match: Match

    @field_validator("path")
    @classmethod
    def _rule(cls, value: str) -> str:
        if value != "*" and not value.startswith("/"):
            raise ValueError(f"path {value!r} must be * or a rule starting with /")
        rule_regex(value)
        return value


class RegistryFile(_Model):
    version: Literal[1]
    differences: tuple[Entry, ...] = ()


def rule_regex(rule: str) -> re.Pattern[str]:
    """A werkzeug rule (``/api/videos/<int:video_id>``) as an anchored regular expression."""
    if rule == "*":
        return re.compile(r".*")
    out, pos = [], 0
    for found in _PLACEHOLDER.finditer(rule):
        out.append(re.escape(rule[pos : found.start()]))
        converter = found.group(1) or "string"
        if converter not in _CONVERTERS:
            raise ValueError(f"path {rule!r}: unknown converter {converter!r}")
        out.append(f"(?:{_CONVERTERS[converter]})")
        pos = found.end()
    out.append(re.escape(rule[pos:]))
    # werkzeug redirects /x to /x/ (strict slashes): both spellings are the rule's path
    return re.compile("^" + "".join(out).rstrip("/") + "/?$")


@dataclass(frozen=True, slots=True)
class Mirrored:
    """One mirrored request and both answers, as the registry's predicates read them."""

    method: str
    url: str
    headers: Sequence[tuple[str, str]]
    legacy_status: int
    legacy_body: bytes
    target_status: int
    target_body: bytes


def _cookie_names(headers: Sequence[tuple[str, str]]) -> list[str]:
    names: list[str] = []
    for key, value in headers:
        if key.lower() == "cookie":
            names.extend(part.split("=", 1)[0].strip() for part in value.split(";") if "=" in part)
    return names


def _request_holds(match: RequestMatch, mirrored: Mirrored) -> bool:
    names = {key.lower() for key, _ in mirrored.headers}
    query = {key for key, _ in parse_qsl(urlsplit(mirrored.url).query, keep_blank_values=True)}
    cookies = _cookie_names(mirrored.headers)
    if match.as_role:
        credentialed = bool(names & set(_CREDENTIALS)) or _SESSION_COOKIE in cookies
        roles = set(match.as_role)
        if not (credentialed and roles - {"anonymous"} or not credentialed and "anonymous" in roles):
            return False
    return (
        all(h.lower() in names for h in match.headers_present)
        and not any(h.lower() in names for h in match.headers_absent)
        and all(q in query for q in match.query_present)
        and all(cookies.count(c) > 1 for c in match.cookie_repeated)
        and not match.body_keys
    )


def _excused(path: str, allow: Iterable[str]) -> bool:
    for part in allow:
        if part == "status" and path == "status":
            return True
        if part == "body" and (path == "body" or path.startswith(("body.", "body[", "bytes."))):
            return True
        if part == "content-type" and path == "headers.content-type":
            return True
        if part.startswith("headers.") and path == part:
            return True
    return False


class Registry:
    def __init__(self, entries: Sequence[Entry] = (), source: str = "<none>") -> None:
        self.entries = tuple(entries)
        self.source = source
        self._paths = {entry.id: rule_regex(entry.path) for entry in self.entries}

    def __len__(self) -> int:
        return len(self.entries)

    def applicable(self, mirrored: Mirrored) -> list[Entry]:
        # werkzeug (legacy) merges repeated slashes before it matches a rule: so does the registry
        path = re.sub("/{2,}", "/", unquote(urlsplit(mirrored.url).path))
        text = mirrored.legacy_body.decode("utf-8", "replace")
        found = []
        for entry in self.entries:
            legacy, demand = entry.match.legacy, entry.match.services
            if (
                entry.method in ("*", mirrored.method)
                and self._paths[entry.id].match(path)
                and _request_holds(entry.match.request, mirrored)
                and (not legacy.status or mirrored.legacy_status in legacy.status)
                and (legacy.body_regex is None or re.search(legacy.body_regex, text))
                # the entry allows a difference only when services answer what it says they answer
                and (not demand.status or mirrored.target_status in demand.status)
                and (demand.body is None or mirrored.target_body.decode("utf-8", "replace") == demand.body)
            ):
                found.append(entry)
        return found

    def excuse(self, mirrored: Mirrored, paths: Sequence[str]) -> tuple[list[int], list[str]]:
        """Which of the difference ``paths`` stay (their indices), and the ids of the entries used."""
        entries = self.applicable(mirrored) if paths else []
        if not entries:
            return list(range(len(paths))), []
        allow = [part for entry in entries for part in entry.match.allow]
        kept = [index for index, path in enumerate(paths) if not _excused(path, allow)]
        return kept, [entry.id for entry in entries]


def parse_registry(text: str, *, source: str = str(DEFAULT_FILE)) -> Registry:
    try:
        data: Any = yaml.safe_load(text)
        registry = RegistryFile.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigIssue(source, None, None, f"invalid YAML: {exc}")]) from None
    except ValidationError as exc:
        issues = [
            ConfigIssue(source, None, None, f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
            for e in exc.errors()
        ]
        raise ConfigError(issues) from None
    return Registry(registry.differences, source)


def load_registry(path: Path | None) -> Registry:
    """The registry at ``path``; an empty one when there is no such file (``ConfigError`` if invalid)."""
    if path is None or not path.is_file():
        return Registry()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(str(path), None, None, f"cannot read: {exc}")]) from None
    return parse_registry(text, source=str(path))
