from __future__ import annotations

from gateway.history import ChangeHistory, RouteSnapshot, diff_tables


def _route(rid: str, mode: str = "legacy", percent: float = 0, **kw: object) -> RouteSnapshot:
    base: dict[str, object] = {
        "path": f"/api/{rid}",
        "methods": ("GET",),
        "upstream": "legacy",
        "fingerprint": "f",
    }
    base.update(kw)
    return RouteSnapshot(rid, mode=mode, percent=percent, **base)  # type: ignore[arg-type]


def test_added_removed_mode_and_edits_are_listed() -> None:
    old = {r.id: r for r in [_route("a"), _route("b", "canary", 10), _route("c"), _route("d")]}
    new = {
        r.id: r
        for r in [
            _route("a"),
            _route("b", "canary", 50),
            _route("d", methods=("GET", "PUT"), upstream="services"),
            _route("c", fingerprint="g"),
            _route("e", "shadow"),
        ]
    }
    changes = [c.as_json() for c in diff_tables(old, new)]
    assert changes == [
        {"kind": "mode", "route": "b", "detail": "canary 10% -> canary 50%"},
        {"kind": "edited", "route": "d", "detail": "methods: GET -> GET,PUT; upstream: legacy -> services"},
        {"kind": "edited", "route": "c", "detail": "definition changed"},
        {"kind": "added", "route": "e", "detail": "/api/e [GET] shadow"},
    ]


def test_removed_routes_are_recorded() -> None:
    changes = diff_tables({"x": _route("x", "live")}, {})
    assert [(c.kind, c.route_id, c.detail) for c in changes] == [("removed", "x", "/api/x was live")]


def test_history_keeps_reloads_newest_first_and_bounded() -> None:
    history = ChangeHistory(keep=3)
    assert history.last is None
    table = {"a": _route("a")}
    history.record({}, table, source="start", table_hash="h1", at=1)
    history.record_failure(source="file", error="line 3: bad", at=2)
    history.record(table, {"a": _route("a", "live")}, source="sighup", table_hash="h2", at=3)
    history.record(table, table, source="api", table_hash="h2", at=4)
    entries = history.entries()
    assert [e.at for e in entries] == [4, 3, 2]
    assert entries[1].as_json()["changes"] == [{"kind": "mode", "route": "a", "detail": "legacy -> live"}]
    assert entries[2].ok is False and entries[2].error == "line 3: bad"
    assert history.last is not None and history.last.at == 4
