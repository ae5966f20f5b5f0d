from __future__ import annotations

import json

from gateway.diff import DiffConfig, NoiseFilter, Sample, compare
from gateway.diff_bytes import byte_differences, client_headers, scan

VALUE = {"title": "café", "ratio": 1e-05, "meta": {"b": 2, "a": 1}, "at": "2026-12-02T05:00:00"}
# Legacy's Flask provider: sorted keys, ASCII escapes, Python's float spelling, a trailing newline.
FLASK = (json.dumps(VALUE, sort_keys=True, indent=None) + "\n").encode()
SERVICES = json.dumps(VALUE, ensure_ascii=False, separators=(",", ":")).encode()


def _sample(body: bytes, **headers: str) -> Sample:
    return Sample(200, "application/json", body, {"content-type": "application/json", **headers})


def test_equal_parsed_json_written_differently_is_a_difference_clients_see() -> None:
    # The parsed comparison alone saw nothing here (issue 14: 0 differences in 150 requests).
    assert compare(_sample(FLASK), _sample(SERVICES), DiffConfig(exact=False)) == []
    found = {d.path: (d.legacy, d.target) for d in compare(_sample(FLASK), _sample(SERVICES), DiffConfig())}
    assert found["bytes.body.title"] == ('"caf\\u00e9"', '"café"')
    assert found["bytes.body"] == (
        {"key order": ["at", "meta", "ratio", "title"]},
        {"key order": ["title", "ratio", "meta", "at"]},
    )
    assert found["bytes.body.meta"] == ({"key order": ["a", "b"]}, {"key order": ["b", "a"]})
    assert "bytes.layout" in found


def test_number_spelling_and_a_trailing_newline_are_differences() -> None:
    found = byte_differences(b'{"n": 1e-05}\n', b'{"n": 0.00001}', lambda path: False)
    assert [(d.path, d.legacy, d.target) for d in found][0] == ("bytes.body.n", "1e-05", "0.00001")
    assert found[1].path == "bytes.layout"


def test_ignored_and_unordered_paths_are_skipped_in_bytes_too() -> None:
    legacy = _sample(b'{"at":"2026-12-02T05:00:00.1","tags":["a","b"],"x":1}')
    target = _sample(b'{"at":"2026-12-02T05:00:01","tags":["b","a"],"x":1.0}')
    config = DiffConfig.build(ignore=["body.at"], unordered=["body.tags"])
    assert [d.path for d in compare(legacy, target, config)] == ["body.x"]  # 1 vs 1.0: once, as a value


def test_identical_bytes_and_non_json_bodies_need_no_lexing() -> None:
    assert byte_differences(SERVICES, SERVICES, lambda path: False) == []
    assert byte_differences(b"<p>", b"<p >", lambda path: False) == []
    assert scan(b'{"a": tru}') is None and scan(b'{"a": 1} x') is None and scan(b"\xff") is None
    assert scan(b"[" * 200 + b"]" * 200) is None  # too deep: left to the parsed comparison


def test_client_headers_are_compared_with_volatile_parts_masked() -> None:
    legacy = _sample(
        b"{}",
        vary="Cookie",
        **{"set-cookie": "mvidarr_session=a1; Expires=Wed, 09 Jun 2027 10:18:14 GMT; HttpOnly; Path=/"},
    )
    target = _sample(
        b"{}", **{"set-cookie": "mvidarr_session=b2; Expires=Thu, 10 Jun 2027 10:18:14 GMT; HttpOnly; Path=/"}
    )
    assert [d.path for d in compare(legacy, target, DiffConfig())] == ["headers.vary"]
    assert client_headers({"set-cookie": "s=x; Path=/", "date": "now"}) == {"set-cookie": "s=…; Path=/"}
    assert compare(legacy, target, DiffConfig.build(ignore=["headers.vary"])) == []


def test_noise_in_bytes_is_learnt_like_noise_in_values() -> None:
    noise = NoiseFilter()
    first, second = _sample(b'{"n":1.50,"id":1}'), _sample(b'{"n":1.5,"id":1}')
    assert noise.learn(first, second, DiffConfig()) == ["bytes.body.n"]
    assert compare(first, second, DiffConfig(), noise.paths) == []
