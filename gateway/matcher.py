"""Path templates and the route matcher.

A template is ``/``-separated segments, each either static text or one parameter:
``{name}`` (any non-empty segment), ``{name:int}`` / ``{name:uuid}`` (typed), or a final
``{name:path}`` (the rest of the path, at least one segment). A request is matched on its
percent-decoded segments against a trie; candidates are tried static first, then typed, then
plain parameters, then ``path``, so the first hit is the most specific route, compared segment by
segment from the left. Methods are part of the match: a route that fits the path but not the
method lets a less specific route (or the default upstream) answer instead.

Two routes with the same shape (same statics, same parameter kinds) and overlapping methods could
match the same request with the same specificity; inserting the second one raises ``AmbiguousRoute``.
Matching cost depends on the path's depth and the backtracking it needs, not on the number of routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Generic, TypeVar

R = TypeVar("R")


class Kind(IntEnum):
    """Segment kinds, ordered by specificity."""

    PATH = 0
    PARAM = 1
    TYPED = 2
    STATIC = 3


_INT = re.compile(r"[0-9]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: Typed converters. They must never overlap each other, or two same-shape routes would be ambiguous
#: in a way the trie cannot see.
CONVERTERS: dict[str, Callable[[str], object]] = {"int": _INT.fullmatch, "uuid": _UUID.fullmatch}
_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}$")
_FORBIDDEN_STATIC = re.compile(r"[{}%?#\\]")


class TemplateError(ValueError):
    """A path template that cannot be compiled."""


class AmbiguousRoute(ValueError):
    def __init__(self, new: str, existing: str, methods: Iterable[str]) -> None:
        self.new, self.existing = new, existing
        listed = ", ".join(sorted(methods)) or "any method"
        super().__init__(f"ambiguous with route {existing!r}: both match the same requests ({listed})")


@dataclass(frozen=True, slots=True)
class Segment:
    kind: Kind
    value: str  # static text, converter name, "" for a plain param, "path" for the rest
    name: str = ""

    @property
    def shape(self) -> str:
        return {Kind.STATIC: "s:" + self.value, Kind.TYPED: "t:" + self.value}.get(self.kind, self.kind.name)


@dataclass(frozen=True, slots=True)
class Template:
    source: str
    segments: tuple[Segment, ...]

    @property
    def specificity(self) -> tuple[int, ...]:
        return tuple(int(segment.kind) for segment in self.segments)

    def match(self, parts: Sequence[str]) -> dict[str, str] | None:
        """Slow, obvious matching of decoded segments (explain and tests; the trie is the hot path)."""
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.kind is Kind.PATH:
                if index >= len(parts):
                    return None
                params[segment.name] = "/".join(parts[index:])
                return params
            if index >= len(parts):
                return None
            part = parts[index]
            if segment.kind is Kind.STATIC:
                if part != segment.value:
                    return None
            elif segment.kind is Kind.TYPED:
                if not CONVERTERS[segment.value](part):
                    return None
                params[segment.name] = part
            else:
                if part == "":
                    return None
                params[segment.name] = part
        return params if len(parts) == len(self.segments) else None


def parse_template(source: str) -> Template:
    if not source.startswith("/"):
        raise TemplateError(f"path {source!r} must start with /")
    raw = source[1:].split("/")
    segments: list[Segment] = []
    names: set[str] = set()
    for index, text in enumerate(raw):
        last = index == len(raw) - 1
        if "{" in text or "}" in text:
            found = _PARAM.match(text)
            if not found:
                raise TemplateError(
                    f"segment {text!r} of {source!r}: a parameter must fill its whole segment"
                )
            name, kind = found.group(1), found.group(2) or "str"
            if name in names:
                raise TemplateError(f"parameter {name!r} appears twice in {source!r}")
            names.add(name)
            if kind == "path":
                if not last:
                    raise TemplateError(f"{{{name}:path}} must be the last segment of {source!r}")
                segments.append(Segment(Kind.PATH, "path", name))
            elif kind == "str":
                segments.append(Segment(Kind.PARAM, "", name))
            elif kind in CONVERTERS:
                segments.append(Segment(Kind.TYPED, kind, name))
            else:
                known = ", ".join(["str", "path", *CONVERTERS])
                raise TemplateError(f"unknown parameter type {kind!r} in {source!r} (known: {known})")
            continue
        if text == "" and not last:
            raise TemplateError(f"empty segment (//) in {source!r}")
        if text in (".", ".."):
            raise TemplateError(f"dot segment {text!r} in {source!r}")
        if _FORBIDDEN_STATIC.search(text):
            raise TemplateError(f"segment {text!r} of {source!r} holds a character templates do not allow")
        segments.append(Segment(Kind.STATIC, text))
    return Template(source, tuple(segments))


@dataclass(slots=True)
class _Endpoints(Generic[R]):
    by_method: dict[str, R] = field(default_factory=dict)
    any_method: R | None = None
    owners: dict[str, str] = field(default_factory=dict)  # method ("*" for any) -> route id

    def add(self, route_id: str, methods: frozenset[str] | None, value: R) -> None:
        keys = {"*"} if methods is None else set(methods)
        clash = [key for key in self.owners if key == "*" or "*" in keys or key in keys]
        if clash:
            existing = self.owners[clash[0]]
            overlap = set() if methods is None or "*" in self.owners else keys & set(self.owners)
            raise AmbiguousRoute(route_id, existing, overlap)
        for key in keys:
            self.owners[key] = route_id
        if methods is None:
            self.any_method = value
        else:
            for method in methods:
                self.by_method[method] = value

    def get(self, method: str) -> R | None:
        found = self.by_method.get(method)
        return found if found is not None else self.any_method


@dataclass(slots=True)
class _Node(Generic[R]):
    static: dict[str, _Node[R]] = field(default_factory=dict)
    typed: list[tuple[str, Callable[[str], object], _Node[R]]] = field(default_factory=list)
    param: _Node[R] | None = None
    rest: _Endpoints[R] | None = None
    here: _Endpoints[R] | None = None


class Matcher(Generic[R]):
    """A trie of route templates; ``match`` returns the most specific value for a method and path."""

    def __init__(self) -> None:
        self._root: _Node[R] = _Node()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, route_id: str, template: Template, methods: frozenset[str] | None, value: R) -> None:
        node = self._root
        for segment in template.segments:
            if segment.kind is Kind.PATH:
                if node.rest is None:
                    node.rest = _Endpoints()
                node.rest.add(route_id, methods, value)
                self._size += 1
                return
            if segment.kind is Kind.STATIC:
                node = node.static.setdefault(segment.value, _Node())
            elif segment.kind is Kind.TYPED:
                for name, _convert, child in node.typed:
                    if name == segment.value:
                        node = child
                        break
                else:
                    child = _Node()
                    node.typed.append((segment.value, CONVERTERS[segment.value], child))
                    node = child
            else:
                if node.param is None:
                    node.param = _Node()
                node = node.param
        if node.here is None:
            node.here = _Endpoints()
        node.here.add(route_id, methods, value)
        self._size += 1

    def match(self, method: str, parts: Sequence[str]) -> R | None:
        """``parts``: the decoded segments after the leading ``/`` (``""`` for a trailing slash)."""
        return _search(self._root, parts, 0, len(parts), method)


def _search(node: _Node[R], parts: Sequence[str], index: int, size: int, method: str) -> R | None:
    if index == size:
        if node.here is not None:
            return node.here.get(method)
        return None
    part = parts[index]
    child = node.static.get(part)
    if child is not None:
        found = _search(child, parts, index + 1, size, method)
        if found is not None:
            return found
    for _name, convert, typed_child in node.typed:
        if convert(part):
            found = _search(typed_child, parts, index + 1, size, method)
            if found is not None:
                return found
    if node.param is not None and part:
        found = _search(node.param, parts, index + 1, size, method)
        if found is not None:
            return found
    if node.rest is not None:
        return node.rest.get(method)
    return None
