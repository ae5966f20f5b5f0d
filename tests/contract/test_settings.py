"""`/api/settings`: services answer exactly what legacy answers."""

from __future__ import annotations

from tests.contract.harness import Pair


def test_settings_reads_match_legacy(pair: Pair) -> None:
    listed = pair.check("GET", "/api/settings/", expect=200).json()
    assert listed["count"] == len(listed["settings"]) > 10
    pair.check("GET", "/api/settings/app_port", expect=200)
    pair.check("GET", "/api/settings/no_such_key", expect=404)
    pair.check("GET", "/api/settings", expect=308)
    pair.check("GET", "/api/settings?x=1", expect=308)
    pair.check("HEAD", "/api/settings/", expect=200)
    pair.check("POST", "/api/settings/", expect=405)
    pair.check("GET", "/api/settings/a/b", expect=404)


def test_settings_writes_match_legacy(pair: Pair) -> None:
    pair.check("PUT", "/api/settings/language", json={"value": "de"}, expect=200)
    pair.check("PUT", "/api/settings/debug_mode", json={"value": True, "description": "Debug!"}, expect=200)
    pair.check("PUT", "/api/settings/new_key", json={"value": ["a", {"b": 1}]}, expect=200)
    pair.check("PUT", "/api/settings/new_num", json={"value": 3.5, "description": ""}, expect=200)
    pair.check("PUT", "/api/settings/nullish", json={"value": None}, expect=200)
    pair.check("PUT", "/api/settings/language", json={}, expect=400)
    pair.check("PUT", "/api/settings/language", json=["value"], expect=400)
    pair.check(
        "PUT",
        "/api/settings/language",
        content=b"{not json",
        expect=400,
        headers={"content-type": "application/json"},
    )
    pair.check("PUT", "/api/settings/language", data={"value": "x"}, expect=400)
    pair.check("PUT", "/api/settings/language", expect=400)
    pair.check(
        "PUT",
        "/api/settings/bulk",
        json={"settings": {"ui_theme": "dark", "max_concurrent_downloads": 5, "fresh": False}},
        expect=200,
    )
    pair.check("PUT", "/api/settings/bulk", json={"settings": {}}, expect=400)
    pair.check("PUT", "/api/settings/bulk", json={"settings": "x"}, expect=400)
    pair.check("PUT", "/api/settings/bulk", json={}, expect=400)
    pair.check("DELETE", "/api/settings/fresh", expect=200)
    pair.check("DELETE", "/api/settings/fresh", expect=404)
    pair.check("DELETE", "/api/settings/bulk", expect=404)
    pair.check("GET", "/api/settings/bulk", expect=404)
    for key in (
        "language",
        "debug_mode",
        "new_key",
        "new_num",
        "nullish",
        "ui_theme",
        "max_concurrent_downloads",
    ):
        pair.check("GET", f"/api/settings/{key}", expect=200)
    pair.check("GET", "/api/settings/", expect=200)
