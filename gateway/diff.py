"""Structural comparison of a legacy answer and a target answer.

Paths name what differs: ``status``, ``headers.content-type``, ``body`` (non-JSON bodies),
``body.videos[3].created_at``. Ignore patterns use the same syntax with ``*`` for any key and
``[*]`` for any index; a pattern also covers everything below it (``body.meta`` ignores
``body.meta.took``). Lists at ``unordered`` paths are compared as multisets.

Noise learning (after Twitter's Diffy): when legacy is asked twice, the fields that differ
between its two answers are volatile (timestamps, random ids); :class:`NoiseFilter` learns
them, with list indices generalised to ``[*]``, and they are left out of later diffs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.diff_bytes import byte_differences, client_headers

MAX_DIFFERENCES = 50
"""Differences kept per comparison; a wholly different body would otherwise flood the store."""

_TOKEN = re.compile(r"\[(\*|\d+)\]|\.?([^.\[\]]+)")

Token = str | int
"""A path step: a key, an index, ``"*"`` (any key) or ``"[*]"`` (any index)."""

ANY_KEY = "*"
ANY_INDEX = "[*]"


def parse_path(path: str) -> tuple[Token, ...]:
    """``body.videos[*].created_at`` → ``("body", "videos", "[*]", "created_at")``."""
    tokens: list[Token] = []
    pos = 0
    for match in _TOKEN.finditer(path):
        if match.start() != pos:
            raise ValueError(f"bad path {path!r} at {pos}")
        pos = match.end()
        index, key = match.group(1), match.group(2)
        if index is not None:
            tokens.append(ANY_INDEX if index == "*" else int(index))
        else:
            tokens.append(key)
    if pos != len(path) or not tokens:
        raise ValueError(f"bad path {path!r}")
    return tuple(tokens)


def format_path(tokens: Sequence[Token]) -> str:
    out = ""
    for token in tokens:
        if isinstance(token, int):
            out += f"[{token}]"
        elif token == ANY_INDEX:
            out += "[*]"
        else:
            out += f".{token}" if out else token
    return out


def _token_matches(pattern: Token, token: Token) -> bool:
    if pattern == token:
        return True
    if pattern == ANY_INDEX:
        return isinstance(token, int)
    return pattern == ANY_KEY and isinstance(token, str)


class PathSet:
    """Compiled path patterns; ``covers(path)`` when a pattern equals or is a prefix of it."""

    def __init__(self, patterns: Iterable[str | Sequence[Token]] = ()) -> None:
        self._patterns: set[tuple[Token, ...]] = set()
        for pattern in patterns:
            self.add(pattern)

    def add(self, pattern: str | Sequence[Token]) -> None:
        self._patterns.add(parse_path(pattern) if isinstance(pattern, str) else tuple(pattern))

    def __len__(self) -> int:
        return len(self._patterns)

    def __iter__(self) -> Any:
        return iter(sorted(format_path(p) for p in self._patterns))

    def covers(self, path: Sequence[Token], *, exact: bool = False) -> bool:
        for pattern in self._patterns:
            if len(pattern) > len(path) or (exact and len(pattern) != len(path)):
                continue
            if all(_token_matches(p, t) for p, t in zip(pattern, path, strict=False)):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Sample:
    """An upstream answer as the comparison sees it."""

    status: int
    content_type: str = ""
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def document(self) -> Any:
        """The JSON body, or the raw bytes when it is not JSON."""
        if "json" in self.content_type.lower() and self.body:
            try:
                return json.loads(self.body)
            except ValueError:
                return self.body
        return self.body


@dataclass(frozen=True, slots=True)
class Difference:
    path: str
    legacy: Any
    target: Any

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "legacy": _jsonable(self.legacy), "target": _jsonable(self.target)}


_MISSING = object()


def _jsonable(value: Any) -> Any:
    if value is _MISSING:
        return "<missing>"
    if isinstance(value, bytes):
        text = value[:200].decode("utf-8", "replace")
        return text + ("..." if len(value) > 200 else "")
    return value


@dataclass(frozen=True)
class DiffConfig:
    ignore: PathSet = field(default_factory=PathSet)
    unordered: PathSet = field(default_factory=PathSet)
    headers: tuple[str, ...] = ()
    """Response headers compared besides content type (lower-case names)."""
    exact: bool | None = None
    """Also compare what clients see (``gateway.diff_bytes``): JSON body bytes and the headers clients
    read. ``None``: when legacy's answer is JSON."""

    @classmethod
    def build(
        cls,
        *,
        ignore: Iterable[str] = (),
        unordered: Iterable[str] = (),
        headers: Iterable[str] = (),
        exact: bool | None = None,
    ) -> DiffConfig:
        return cls(PathSet(ignore), PathSet(unordered), tuple(h.lower() for h in headers), exact)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class _Walker:
    def __init__(self, config: DiffConfig, noise: PathSet | None) -> None:
        self.config = config
        self.noise = noise
        self.out: list[Difference] = []

    def skip(self, path: tuple[Token, ...]) -> bool:
        return self.config.ignore.covers(path) or (self.noise is not None and self.noise.covers(path))

    def emit(self, path: tuple[Token, ...], legacy: Any, target: Any) -> None:
        if len(self.out) < MAX_DIFFERENCES:
            self.out.append(Difference(format_path(path), legacy, target))

    def prune(self, value: Any, path: tuple[Token, ...]) -> Any:
        """The value with ignored/noisy members removed, for order-free comparison."""
        if isinstance(value, dict):
            return {k: self.prune(v, (*path, k)) for k, v in value.items() if not self.skip((*path, k))}
        if isinstance(value, list):
            return [self.prune(v, (*path, i)) for i, v in enumerate(value) if not self.skip((*path, i))]
        return value

    def walk(self, legacy: Any, target: Any, path: tuple[Token, ...]) -> None:
        if self.skip(path):
            return
        if isinstance(legacy, dict) and isinstance(target, dict):
            for key in list(legacy) + [k for k in target if k not in legacy]:
                self.walk(legacy.get(key, _MISSING), target.get(key, _MISSING), (*path, key))
            return
        if isinstance(legacy, list) and isinstance(target, list):
            if self.config.unordered.covers(path, exact=True):
                legacy = sorted((self.prune(v, (*path, ANY_INDEX)) for v in legacy), key=_canonical)
                target = sorted((self.prune(v, (*path, ANY_INDEX)) for v in target), key=_canonical)
            for index in range(max(len(legacy), len(target))):
                self.walk(
                    legacy[index] if index < len(legacy) else _MISSING,
                    target[index] if index < len(target) else _MISSING,
                    (*path, index),
                )
            return
        if type(legacy) is not type(target) or legacy != target:
            self.emit(path, legacy, target)


def _media(content_type: str) -> str:
    return content_type.replace(" ", "").lower()


def compare(
    legacy: Sample, target: Sample, config: DiffConfig, noise: PathSet | None = None
) -> list[Difference]:
    """Every difference between the two answers that is neither ignored nor known noise."""
    walker = _Walker(config, noise)
    walker.walk(legacy.status, target.status, ("status",))
    walker.walk(_media(legacy.content_type), _media(target.content_type), ("headers", "content-type"))
    for name in config.headers:
        walker.walk(legacy.headers.get(name, _MISSING), target.headers.get(name, _MISSING), ("headers", name))
    document = legacy.document()
    walker.walk(document, target.document(), ("body",))
    exact = config.exact if config.exact is not None else not isinstance(document, bytes)
    if exact:
        _compare_client_view(walker, legacy, target)
    return walker.out


def _compare_client_view(walker: _Walker, legacy: Sample, target: Sample) -> None:
    """Headers clients read and JSON body bytes (see ``gateway.diff_bytes``)."""
    seen, other = client_headers(legacy.headers), client_headers(target.headers)
    for name in sorted(set(seen) | set(other)):
        if name not in walker.config.headers:
            walker.walk(seen.get(name, _MISSING), other.get(name, _MISSING), ("headers", name))

    def skip(path: tuple[Token, ...]) -> bool:
        return walker.skip(path) or walker.config.unordered.covers(path[:-1], exact=True)

    for found in byte_differences(legacy.body, target.body, skip):
        path = parse_path(found.path)
        if not walker.skip(path):
            walker.emit(path, found.legacy, found.target)


def _generalise(path: str) -> tuple[Token, ...]:
    return tuple(ANY_INDEX if isinstance(t, int) else t for t in parse_path(path))


class NoiseFilter:
    """Fields learnt to differ between two answers of legacy itself (per route)."""

    MAX_PATHS = 256

    def __init__(self) -> None:
        self.paths = PathSet()

    def learn(self, first: Sample, second: Sample, config: DiffConfig) -> list[str]:
        """Record what differs between two legacy answers; returns the newly learnt paths."""
        new: list[str] = []
        for difference in compare(first, second, config, self.paths):
            if len(self.paths) >= self.MAX_PATHS:
                break
            generalised = _generalise(difference.path)
            if not self.paths.covers(generalised):
                self.paths.add(generalised)
                new.append(format_path(generalised))
        return new
