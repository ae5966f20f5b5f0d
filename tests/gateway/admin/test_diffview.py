"""The diff viewer: both answers side by side, differing paths marked, noise and excuses told apart."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from gateway.admin.diffview import MAX_LINES, classifier, document_lines, render_viewer, select
from gateway.diff import Difference, PathSet, Sample
from gateway.shadow import Answers, DiffRecord, DiffStore, DiffView
from tests.gateway.cutover_support import ADMIN, Clock, gateway_server, sides, table, utc


def _record(at: float, diffs: tuple[str, ...] = (), excused: tuple[str, ...] = ()) -> DiffRecord:
    return DiffRecord(
        at,
        "videos",
        f"rid-{at:g}",
        "GET",
        "/api/videos/",
        200,
        200,
        tuple(Difference(p, "l", "t") for p in diffs),
        excused=tuple(Difference(p, "l", "t") for p in excused),
        excused_by=("security-headers",) if excused else (),
    )


def _view(record: DiffRecord, legacy: object, target: object) -> DiffView:
    return DiffView(
        record,
        Answers.of(
            Sample(200, "application/json", json.dumps(legacy).encode()),
            Sample(200, "application/json", json.dumps(target).encode()),
        ),
    )


def _marks(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        path = line.split('data-path="', 1)[1].split('"', 1)[0]
        cls = line.split('class="', 1)[1].split('"', 1)[0]
        out.setdefault(path, cls)
    return out


def test_each_line_carries_its_path_and_the_right_mark() -> None:
    view = _view(_record(1.0, ("body.videos[0].title",), ("body.etag",)), {}, {})
    classify = classifier(view, noise=PathSet(["body.videos[*].updated"]), ignore=PathSet(["body.took"]))
    document = {"videos": [{"title": "A", "updated": 5, "id": 1}], "etag": "x", "took": 3}
    marks = _marks(document_lines(document, classify))
    assert marks["body.videos[0].title"] == "jl diff"
    assert marks["body.videos[0].updated"] == "jl noise"
    assert marks["body.etag"] == "jl excused"
    assert marks["body.took"] == "jl ignored"
    assert marks["body.videos[0].id"] == "jl"


def test_a_marked_container_marks_its_members() -> None:
    view = _view(_record(1.0, ("body.meta",)), {}, {})
    lines = document_lines({"meta": {"a": 1, "b": [1, 2]}}, classifier(view, PathSet(), PathSet()))
    marks = _marks(lines)
    assert marks["body.meta.a"] == marks["body.meta.b[1]"] == "jl diff"


def test_keys_and_values_are_escaped() -> None:
    view = _view(_record(1.0, ("body.<script>",)), {}, {})
    lines = document_lines(
        {"<script>": "</pre><img src=x onerror=alert(1)>"}, classifier(view, PathSet(), PathSet())
    )
    text = "".join(lines)
    assert "<script>" not in text and "<img" not in text and "&lt;img" in text
    assert 'data-path="body.&lt;script&gt;"' in text


def test_long_documents_are_cut_with_a_note() -> None:
    view = _view(_record(1.0), {}, {})
    lines = document_lines(list(range(MAX_LINES * 2)), classifier(view, PathSet(), PathSet()))
    assert len(lines) == MAX_LINES + 1 and "more lines" in lines[-1]


def test_viewer_puts_both_answers_side_by_side_and_notes_truncation() -> None:
    legacy = Sample(500, "text/html", b"<h1>boom</h1>" * 5000)
    target = Sample(200, "application/json", b'{"ok": true}')
    view = DiffView(_record(2.0, ("status", "body")), Answers.of(legacy, target))
    html = render_viewer([view], {}, {}, "videos", None)
    assert html.count("<pre") == 2 and "<h1>" not in html
    assert "first 32768 of 65000 bytes" in html
    assert '<span class="jl diff" data-path="body">' in html
    assert 'data-diff-path="status"' in html


def test_filter_keeps_views_with_a_matching_counted_or_excused_path() -> None:
    views = [
        _view(_record(1.0, ("body.count",)), {}, {}),
        _view(_record(2.0, (), ("headers.x-frame-options",)), {}, {}),
    ]
    assert select(views, "COUNT") == views[:1]
    assert select(views, "x-frame") == views[1:]
    assert select(views, None) == views and select(views, "nothing") == []


async def test_store_keeps_answers_for_the_newest_diffs_excused_ones_included() -> None:
    store = DiffStore()
    answers = Answers.of(Sample(200, "application/json", b"{}"), Sample(200, "application/json", b"[]"))
    await store.record(_record(1.0, ("body",)), answers)
    await store.record(_record(2.0, (), ("headers.x-frame-options",)), answers)
    await store.record(_record(3.0), answers)  # same answers: nothing to view
    for i in range(30):
        await store.record(_record(10.0 + i, ("body",)), answers)
    views = store.views("videos")
    assert len(views) == 20 and [v.record.at for v in views] == sorted(
        (v.record.at for v in views), reverse=True
    )
    assert views[0].record.at == 39.0
    assert len(store.recent("videos", 500)) == 31  # excused-only diffs are not counted as diffs
    assert store.views("nope") == [] and store.views() == views


def test_viewer_api_and_fragment_over_a_real_gateway(sqlite_url: str, tmp_path: Path) -> None:
    routes = """\
  - id: items
    path: /api/items
    methods: [GET]
    target: services
    rollout:
      - {from: 2026-W49, mode: shadow}
    shadow: {ignore: [body.count]}
"""
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(tmp_path, table(lsrv.url, tsrv.url, routes), Clock(utc(2026, 12, 9))) as (gw, gateway),
    ):
        assert tsrv is not None
        target.title = "<b>Hunting High and Low</b>"
        with httpx.Client(base_url=gw.url) as client:
            for _ in range(3):
                assert client.get("/api/items").status_code == 200
            for _ in range(500):
                if gateway.cutover.diffs.route("items").compared == 3:
                    break
                time.sleep(0.01)
            found = client.get("/_gateway/api/diffs/view", params={"route": "items"}, headers=ADMIN).json()
            board = client.get("/_gateway/api/diffs/board", params={"route": "items"}, headers=ADMIN)
            filtered = client.get(
                "/_gateway/api/diffs/view", params={"route": "items", "path": "nothing"}, headers=ADMIN
            ).json()
            anonymous = client.get("/_gateway/api/diffs/board", params={"route": "items"})
    assert len(found["views"]) == 3 and found["ignore"] == {"items": ["body.count"]}
    first = found["views"][0]
    assert [d["path"] for d in first["differences"]] == ["body.items[0].title"]
    assert "Hunting" in first["target"]["body"] and first["legacy"]["truncated"] is False
    assert board.status_code == 200 and board.headers["content-type"].startswith("text/html")
    assert '<span class="jl diff" data-path="body.items[0].title">' in board.text
    assert '<span class="jl ignored" data-path="body.count">' in board.text
    assert "<b>Hunting" not in board.text
    assert filtered["views"] == []
    assert anonymous.status_code == 401
