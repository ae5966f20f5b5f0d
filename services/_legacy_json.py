"""Legacy's exact JSON bytes: the one encoder behind every services JSON answer (errors included).

Legacy answers through Flask 3.1's `DefaultJSONProvider.response()`: `json.dumps(obj,
sort_keys=True, ensure_ascii=True, separators=(",", ":"), default=flask's _default)` plus a
trailing newline, served as `Content-Type: application/json` (no charset). A client that
hashes, signs, caches by ETag or diffs bodies sees every byte, so services write the same ones.

Speed: orjson (about ten times faster on list pages) writes identical bytes for sorted,
compact JSON of ASCII strings, 64-bit integers, booleans and nulls. It differs on non-ASCII
text (raw UTF-8 instead of `\\u00e9`), DEL (raw instead of `\\u007f`), floats (`0.00001` where
Python writes `1e-05`), integers past 64 bits, non-string keys, str/int subclasses and dates.
So orjson's output is kept only when it holds none of these, checked on the output itself
(a 50-video page, loaded 2-CPU box: orjson 60 us + check 150 us, against 670 us for the stdlib);
otherwise the stdlib writes it.
NaN and infinities (orjson: `null`, Python and Flask: `NaN`, `Infinity`) reach an answer only from
JSON text: a request body (`{"value": NaN}` or `1e999`, echoed by a settings write), a stored
JSON column, or an INTEGER column SQLite keeps such a body value in (`as_read`). The decoders
and `as_read` make them :class:`NonFinite`, a float orjson refuses, so those answers go to the
stdlib and carry legacy's spelling; computed floats are finite.
"""

from __future__ import annotations

import dataclasses
import decimal
import json
import math
import re
import uuid
from datetime import date
from typing import Any

import orjson
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse
from werkzeug.http import http_date

MEDIA_TYPE = "application/json"
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _flask_default(o: Any) -> Any:
    """flask.json.provider._default: what legacy's jsonify does with non-JSON types."""
    if isinstance(o, date):
        return http_date(o)
    if isinstance(o, decimal.Decimal | uuid.UUID):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


_STDLIB = json.JSONEncoder(ensure_ascii=True, sort_keys=True, separators=(",", ":"), default=_flask_default)


_LONG_DIGITS = re.compile(r"[0-9]{19}")
# A JSON number with a fraction or an exponent (what orjson writes for a float).
_FLOAT = re.compile(rb"-?[0-9]+(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)")


class NonFinite(float):
    """A NaN or an infinity read from JSON text. orjson refuses float subclasses, so an answer
    holding one is written by the stdlib, as `NaN` / `Infinity` / `-Infinity` like Flask."""

    __slots__ = ()


def as_read(value: Any) -> Any:
    """A column value as legacy writes it: a NaN or infinity marked :class:`NonFinite`.

    SQLite keeps the float a client wrote into an INTEGER column (`{"year": Infinity}` via a
    video update) and gives it back as a plain float, which orjson would write as `null`.
    MariaDB refuses such a value, so only SQLite ever returns one; for any other value this
    is one type check."""
    if value.__class__ is float and not math.isfinite(value):
        return NonFinite(value)
    return value


def _constant(name: str) -> float:
    return NonFinite(name)  # "NaN", "Infinity", "-Infinity": float() reads all three


def _float(text: str) -> float:
    value = float(text)
    return NonFinite(value) if value in (math.inf, -math.inf) else value  # 1e999


def loads_text(text: str | bytes) -> Any:
    """The stdlib's `json.loads` (what Flask's `request.get_json` uses), non-finite numbers marked."""
    return json.loads(text, parse_constant=_constant, parse_float=_float)


def _orjson_is_exact(out: bytes) -> bool:
    """True when the stdlib with Flask's options would write these very bytes.

    orjson writes a float with a `.` or an exponent, always outside a string; so the text
    outside every string (splitting on `"` alternates outside/inside, an escaped quote aside)
    must hold neither. One split costs about a third of the stdlib encoder it spares.
    """
    if not out.isascii() or b"\x7f" in out:
        return False
    if b"." not in out and b"e" not in out and b"E" not in out:
        return True
    if b'\\"' in out:  # an escaped quote would shift the alternation: let the stdlib write it
        return False
    outside = b"".join(out.split(b'"')[0::2]).replace(b"true", b"").replace(b"false", b"")
    if b"." not in outside and b"e" not in outside and b"E" not in outside:
        return True
    # Floats: the stdlib writes `float.__repr__`; where orjson wrote that very text (most floats,
    # e.g. the artists list's `query_time`), the bytes are the same. `outside` holds only numbers,
    # `null` and punctuation, so this looks at a few tokens, not at the whole answer.
    return all(repr(float(token)).encode("ascii") == token for token in _FLOAT.findall(outside))


def encode(content: Any) -> bytes:
    """The body legacy's `jsonify(content)` sends, byte for byte (trailing newline included)."""
    try:
        out = orjson.dumps(content, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: big ints, non-str keys, subclasses, dates
        pass
    else:
        if _orjson_is_exact(out):
            return out + b"\n"
    return _STDLIB.encode(content).encode("ascii") + b"\n"


class LegacyJSONResponse(JSONResponse):
    """A JSON answer with legacy's bytes; Content-Length follows from them.

    A JSONResponse subclass so FastAPI documents the routes that use it as JSON in /openapi.json.
    """

    media_type = MEDIA_TYPE

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        return encode(content)


def loads(text: str | bytes | int | float) -> Any:
    """`json.loads`, by orjson when it can (about four times faster on stored JSON columns).

    Used as the engines' `json_deserializer`: orjson gives the same values for valid JSON and
    refuses some text the stdlib accepts (NaN, Infinity, lone surrogates), which then goes to
    the stdlib. Integers past 64 bits orjson would turn into floats: any run of 19 or more
    digits (a false alarm inside a string only costs speed) goes to the stdlib first.

    SQLite gives a JSON column NUMERIC affinity: a stored document that is a bare number
    (`{"keywords": 5}` from a client) comes back as that number, already decoded (issue 20:
    a later read must not fail on what a write stored)."""
    if isinstance(text, int | float):
        return text
    if _LONG_DIGITS.search(text if isinstance(text, str) else text.decode("utf-8", "replace")):
        return loads_text(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return loads_text(text)


def legacy_json(body: Any, status_code: int = 200) -> LegacyJSONResponse:
    return LegacyJSONResponse(body, status_code=status_code)
