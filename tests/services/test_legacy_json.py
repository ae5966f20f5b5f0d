"""The services' JSON answers: legacy's (Flask's) exact bytes, orjson where it writes the same."""

from __future__ import annotations

import dataclasses
import decimal
import json
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services._legacy_http import legacy_json
from services._legacy_json import encode, loads, loads_text

_FLASK = Flask(__name__)


def flask_bytes(value: Any) -> bytes:
    """What legacy's `jsonify(value)` sends."""
    with _FLASK.app_context():
        return _FLASK.json.response(value).get_data()


class Color(StrEnum):
    RED = "RED"


@dataclasses.dataclass
class Point:
    x: int
    y: float


def test_legacy_json_is_sorted_ascii_compact_with_a_newline() -> None:
    response = legacy_json({"b": "Björk", "a": [1, 2.5, None, True]}, 201)
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.body == b'{"a":[1,2.5,null,true],"b":"Bj\\u00f6rk"}\n'
    assert response.headers["content-length"] == str(len(response.body))


@pytest.mark.parametrize(
    "value",
    [
        {"big": 2**70, "nested": {"1": "one"}},
        {"f": [1e-05, 0.00002, 1e16, 3.0, -0.0, 123456.789, 1.5e300]},
        {"s": 'é\u007f\u001f\u2028\U0001f3b5 "quoted" \\ /', "t": "true.false"},
        {"when": datetime(2025, 1, 2, 3, 4, 5), "day": date(2025, 1, 2)},
        {"d": decimal.Decimal("1.10"), "u": uuid.UUID(int=5), "p": Point(1, 0.5)},
        {"enum": Color.RED, "bool": True, "none": None, "e": "1e5", "z": {"b": 1, "a": 2}},
        [{"a": "x.y"}, "2.5", 2],
        {},
        # the float pre-check: floats as array elements and nested values, float-like text
        [1, 2.5, [-1e20, [0.5]]],
        0.00001,
        {"s": 'x":1.5', "t": "a,1.5", "w": "2026-11-25T16:09:40.123", "n": [3, -7]},
    ],
)
def test_bytes_are_flasks(value: Any) -> None:
    assert encode(value) == flask_bytes(value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_encodes_as_flask_does(value: Any) -> None:
    assert encode(value) == flask_bytes(value)
    assert json.loads(encode(value)) == value


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, "x"], "b": null}',
        '{"big": 123456789012345678901234567890}',
        "[-9223372036854775809, 1]",
        "[NaN, 1]",
        '"\\ud800"',
    ],
)
def test_loads_reads_stored_json_as_the_stdlib_does(text: str) -> None:
    assert json.dumps(loads(text)) == json.dumps(json.loads(text))


def test_a_float_is_left_to_orjson_only_where_python_writes_the_same_text() -> None:
    from services._legacy_json import _orjson_is_exact

    assert not _orjson_is_exact(b'{"a":0.00002}')  # Python: 2e-05
    assert not _orjson_is_exact(b'{"a":[1,1e16]}')  # Python: 1e+16
    assert not _orjson_is_exact(b'{"a":[0.5,1.5e-7]}')  # Python: 1.5e-07
    assert _orjson_is_exact(b"[-2.5]")
    assert _orjson_is_exact(b'{"query_time":0.0123,"s":"1e16 and 0.00002"}')
    assert _orjson_is_exact(b'{"at":"2025-01-02T03:04:05.123456","n":[1,2],"u":"a.b"}')
    assert not _orjson_is_exact('{"a":"\u00e9"}'.encode())


@pytest.mark.parametrize(
    "text",
    [
        '{"value": NaN}',
        '{"value": Infinity, "b": [-Infinity, 1.5]}',
        '{"value": 1e999}',
        '{"value": -1e400, "n": null}',
        '{"a": 123456789012345678901234567890, "b": NaN}',
    ],
)
def test_non_finite_numbers_from_json_text_are_spelled_as_flask_spells_them(text: str) -> None:
    """A request body (or a stored JSON column) with NaN or an infinity: echoed as legacy echoes it."""
    expected = flask_bytes(json.loads(text))
    assert encode(loads_text(text)) == expected
    assert encode(loads(text)) == expected
    assert b"NaN" in expected or b"Infinity" in expected


def test_non_finite_marker_is_a_float_that_compares_and_stores_as_one() -> None:
    value = loads_text('{"v": Infinity}')["v"]
    assert isinstance(value, float) and value == float("inf") and str(value) == "inf"
    assert json.dumps(value) == "Infinity"  # SQLAlchemy's JSON columns serialise it like legacy


@settings(max_examples=500, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=8), st.text(max_size=8))
def test_any_float_page_encodes_as_flask_does(floats: list[float], text: str) -> None:
    value = {"floats": floats, "text": text, "query_time": round(abs(floats[0]) if floats else 0.0, 4)}
    assert encode(value) == flask_bytes(value)
