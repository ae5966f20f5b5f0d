"""What a client sees that a parsed-JSON diff does not: body bytes and the headers clients read.

Two JSON answers can parse to equal values and still differ for every client that hashes, signs,
caches by ETag or diffs bodies: key order, escaping (``\\u00e9`` against ``é``), number spelling
(``1e-05`` against ``0.00001``), whitespace and a trailing newline. :func:`byte_differences` lexes
both bodies without decoding the values (:func:`scan` keeps every scalar's raw text, every object's
key order and the layout between tokens) and reports each such difference under ``bytes.``:

- ``bytes.body.name``: the value is equal once parsed but spelled differently;
- ``bytes.body.meta``: the same keys in another order;
- ``bytes.layout``: whitespace or newlines between tokens, or after the document.

Paths that the route ignores or learnt as noise are skipped here too (a timestamp's spelling is as
volatile as its value), and so are lists compared without order. :func:`client_headers` picks the
response headers a client acts on, with cookie values and dates masked (they are volatile).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Path = tuple[str | int, ...]

#: Response headers a client reads (besides content-type, compared always). Content-Length is
#: left out: it follows the body, whose bytes are compared themselves with volatile parts skipped.
CLIENT_HEADERS = (
    "access-control-allow-credentials",
    "access-control-allow-origin",
    "access-control-expose-headers",
    "allow",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "etag",
    "location",
    "retry-after",
    "set-cookie",
    "vary",
    "www-authenticate",
    "x-content-type-options",
)
#: Nesting beyond this is not lexed (the parsed comparison still runs).
MAX_DEPTH = 128


@dataclass
class Lexed:
    """A JSON text as the bytes comparison sees it."""

    #: Raw text of every scalar, by path.
    scalars: dict[Path, str] = field(default_factory=dict)
    #: Key order of every object, by path.
    keys: dict[Path, tuple[str, ...]] = field(default_factory=dict)
    #: Punctuation and whitespace with every key and scalar replaced by one marker.
    layout: str = ""


class _NotJSON(Exception):
    pass


_WS = " \t\n\r"
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_LITERAL = re.compile(r"true|false|null")


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.out = Lexed()
        self.layout: list[str] = []

    def ws(self) -> None:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _WS:
            self.pos += 1
        self.layout.append(self.text[start : self.pos])

    def punct(self, char: str) -> None:
        if not self.text.startswith(char, self.pos):
            raise _NotJSON
        self.pos += 1
        self.layout.append(char)

    def value(self, path: Path, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _NotJSON
        self.ws()
        char = self.text[self.pos : self.pos + 1]
        if char == "{":
            self.punct("{")
            keys: list[str] = []
            self.ws()
            if self.text.startswith("}", self.pos):
                self.punct("}")
            else:
                while True:
                    self.ws()
                    raw = self.token(_STRING)
                    key = json.loads(raw)
                    keys.append(key)
                    self.out.scalars[(*path, key, "<key>")] = raw
                    self.ws()
                    self.punct(":")
                    self.value((*path, key), depth + 1)
                    self.ws()
                    if self.text.startswith(",", self.pos):
                        self.punct(",")
                        continue
                    self.punct("}")
                    break
            self.out.keys[path] = tuple(keys)
        elif char == "[":
            self.punct("[")
            self.ws()
            if self.text.startswith("]", self.pos):
                self.punct("]")
            else:
                index = 0
                while True:
                    self.value((*path, index), depth + 1)
                    index += 1
                    self.ws()
                    if self.text.startswith(",", self.pos):
                        self.punct(",")
                        continue
                    self.punct("]")
                    break
        elif char == '"':
            self.out.scalars[path] = self.token(_STRING)
        elif char in "-0123456789":
            self.out.scalars[path] = self.token(_NUMBER)
        else:
            self.out.scalars[path] = self.token(_LITERAL)

    def token(self, pattern: re.Pattern[str]) -> str:
        found = pattern.match(self.text, self.pos)
        if found is None:
            raise _NotJSON
        self.pos = found.end()
        self.layout.append("\x00")
        return found.group()


def scan(body: bytes) -> Lexed | None:
    """Lex a JSON body, or ``None`` when it is not JSON text (UTF-8)."""
    try:
        lexer = _Lexer(body.decode("utf-8"))
        lexer.value(("body",), 0)
        lexer.ws()
    except (_NotJSON, UnicodeDecodeError, ValueError):
        return None
    if lexer.pos != len(lexer.text):
        return None
    lexer.out.layout = "".join(lexer.layout)
    return lexer.out


@dataclass(frozen=True, slots=True)
class ByteDifference:
    path: str
    legacy: Any
    target: Any


def _format(path: Path) -> str:
    out = "bytes"
    for token in path:
        out += f"[{token}]" if isinstance(token, int) else f".{token}"
    return out


def byte_differences(legacy: bytes, target: bytes, skip: Callable[[Path], bool]) -> list[ByteDifference]:
    """Differences in how two JSON bodies are written, outside paths ``skip`` covers.

    Only what the parsed comparison cannot see: a value that differs once parsed is reported there.
    """
    if legacy == target:
        return []
    first, second = scan(legacy), scan(target)
    if first is None or second is None:
        return []
    out: list[ByteDifference] = []

    def skipped(path: Path) -> bool:
        return any(skip(path[:end]) for end in range(1, len(path) + 1))

    for path, raw in first.scalars.items():
        other = second.scalars.get(path)
        if other is None or other == raw:
            continue
        value_path = path[:-1] if path[-1] == "<key>" else path
        if skipped(value_path) or not _same_value(json.loads(raw), json.loads(other)):
            continue
        out.append(ByteDifference(_format(value_path), raw, other))
    for path, keys in first.keys.items():
        other_keys = second.keys.get(path)
        if other_keys is None or skipped(path):
            continue
        kept = tuple(k for k in keys if not skipped((*path, k)))
        kept_other = tuple(k for k in other_keys if not skipped((*path, k)))
        if kept != kept_other and sorted(kept) == sorted(kept_other):
            out.append(
                ByteDifference(_format(path), {"key order": list(kept)}, {"key order": list(kept_other)})
            )
    style, other_style = _spacing(first.layout), _spacing(second.layout)
    if style != other_style:
        out.append(ByteDifference("bytes.layout", style, other_style))
    return out


def _spacing(layout: str) -> dict[str, list[str]]:
    """Which whitespace follows which token (``\x00``: a key or value), and what ends the text.

    Independent of key order and values, so only the writer's style is compared.
    """
    seen: dict[str, set[str]] = {}
    previous = "start"
    body = layout.rstrip(_WS)
    for element in re.findall(r"[ \t\n\r]+|[^ \t\n\r]", body):
        if element[0] in _WS:
            seen.setdefault(previous, set()).add(element)
        else:
            previous = "value" if element == "\x00" else element
    style = {f"after {key}": sorted(values) for key, values in sorted(seen.items())}
    style["end"] = [layout[len(body) :]]
    return style


def _same_value(first: Any, second: Any) -> bool:
    """Equal once parsed, as the parsed comparison judges (1 and 1.0 differ there already)."""
    return type(first) is type(second) and first == second


_COOKIE_VALUE = re.compile(r"^([^=;]+)=[^;]*")
_COOKIE_DATE = re.compile(r"(?i)(;\s*expires=)[^;]*")


def _cookie_shape(value: str) -> str:
    value = _COOKIE_VALUE.sub(lambda m: f"{m.group(1).strip()}=…", value.strip())
    return _COOKIE_DATE.sub(lambda m: f"{m.group(1)}…", value)


def client_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers of ``CLIENT_HEADERS`` present in an answer, with volatile parts masked."""
    out: dict[str, str] = {}
    for name in CLIENT_HEADERS:
        value = headers.get(name)
        if value is not None:
            out[name] = _cookie_shape(value) if name == "set-cookie" else value
    return out
