from __future__ import annotations

import json

import pytest

from gateway.diff import DiffConfig, NoiseFilter, PathSet, Sample, compare, format_path, parse_path


def _json(status: int, body: object) -> Sample:
    return Sample(status, "application/json", json.dumps(body).encode())


def test_path_syntax_round_trips() -> None:
    tokens = parse_path("body.videos[*].created_at")
    assert tokens == ("body", "videos", "[*]", "created_at")
    assert format_path(("body", "videos", 3, "id")) == "body.videos[3].id"
    with pytest.raises(ValueError):
        parse_path("")
    with pytest.raises(ValueError):
        parse_path("body[x]")


def test_identical_answers_have_no_difference() -> None:
    sample = _json(200, {"a": [1, 2, {"b": None}]})
    assert compare(sample, sample, DiffConfig()) == []


def test_status_content_type_and_body_fields_are_reported_by_path() -> None:
    legacy = _json(200, {"videos": [{"id": 1, "title": "x"}], "total": 1})
    target = Sample(201, "text/html", b"<p>")
    paths = [d.path for d in compare(legacy, target, DiffConfig())]
    assert paths == ["status", "headers.content-type", "body"]
    target = _json(200, {"videos": [{"id": 1, "title": "y", "extra": True}], "total": 1.0})
    diffs = compare(legacy, target, DiffConfig())
    assert [d.path for d in diffs] == ["body.videos[0].title", "body.videos[0].extra", "body.total"]
    assert diffs[1].as_json() == {"path": "body.videos[0].extra", "legacy": "<missing>", "target": True}


def test_ignore_paths_with_wildcards_cover_subtrees() -> None:
    legacy = _json(200, {"query_time": 1, "videos": [{"id": 1, "created_at": "a"}], "meta": {"x": 1}})
    target = _json(200, {"query_time": 2, "videos": [{"id": 1, "created_at": "b"}], "meta": {"x": 2}})
    config = DiffConfig.build(ignore=["body.query_time", "body.videos[*].created_at", "body.meta"])
    assert compare(legacy, target, config) == []
    assert len(compare(legacy, target, DiffConfig())) == 3


def test_unordered_lists_compare_as_multisets() -> None:
    legacy = _json(200, {"tags": ["a", "b", "c"], "items": [{"id": 1, "t": 5}, {"id": 2, "t": 6}]})
    target = _json(200, {"tags": ["c", "a", "b"], "items": [{"id": 2, "t": 9}, {"id": 1, "t": 8}]})
    config = DiffConfig.build(unordered=["body.tags", "body.items"], ignore=["body.items[*].t"])
    assert compare(legacy, target, config) == []
    ordered = DiffConfig.build(ignore=["body.items[*].t"])
    assert [d.path for d in compare(legacy, target, ordered)][:1] == ["body.tags[0]"]


def test_extra_headers_can_be_compared() -> None:
    legacy = Sample(200, "text/plain", b"x", {"cache-control": "no-store"})
    target = Sample(200, "text/plain", b"x", {})
    assert [d.path for d in compare(legacy, target, DiffConfig.build(headers=["Cache-Control"]))] == [
        "headers.cache-control"
    ]


def test_invalid_json_body_is_compared_as_bytes() -> None:
    legacy = Sample(200, "application/json", b"{not json")
    assert compare(legacy, legacy, DiffConfig()) == []
    assert [d.path for d in compare(legacy, _json(200, {}), DiffConfig())] == ["body"]


def test_noise_learnt_from_two_legacy_answers_is_suppressed() -> None:
    first = _json(200, {"videos": [{"id": 1, "seen": "t1"}, {"id": 2, "seen": "t1"}], "request": "r1"})
    second = _json(200, {"videos": [{"id": 1, "seen": "t2"}, {"id": 2, "seen": "t2"}], "request": "r2"})
    noise = NoiseFilter()
    learnt = noise.learn(first, second, DiffConfig())
    assert learnt == ["body.videos[*].seen", "body.request"]
    assert noise.learn(first, second, DiffConfig()) == []
    target = _json(200, {"videos": [{"id": 1, "seen": "t3"}, {"id": 3, "seen": "t3"}], "request": "r3"})
    assert [d.path for d in compare(first, target, DiffConfig(), noise.paths)] == ["body.videos[1].id"]


def test_pathset_exact_and_prefix_cover() -> None:
    paths = PathSet(["body.a", "*.b"])
    assert paths.covers(("body", "a", "c"))
    assert not paths.covers(("body", "a", "c"), exact=True)
    assert paths.covers(("x", "b"), exact=True)
    assert not paths.covers(("body",))
    assert list(paths) == ["*.b", "body.a"]
