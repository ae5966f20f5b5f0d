"""The services' JSON answers: orjson, with the stdlib for what orjson refuses."""

from __future__ import annotations

import json

from services._legacy_http import legacy_json


def test_legacy_json_is_compact_utf8_in_key_order() -> None:
    response = legacy_json({"b": "Björk", "a": [1, 2.5, None, True]}, 201)
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.body == '{"b":"Björk","a":[1,2.5,null,true]}'.encode()


def test_integers_past_64_bits_and_integer_keys_still_encode() -> None:
    body = {"big": 2**70, "nested": {1: "one"}}
    assert json.loads(legacy_json(body).body) == {"big": 2**70, "nested": {"1": "one"}}
