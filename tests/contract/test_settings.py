"""`/api/settings`: services answer exactly what legacy answers."""

from __future__ import annotations

from functools import partial

from tests.contract._deliberate import refused
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
    # Settings writes need an ADMIN on services (differences.yaml: settings-writes-need-admin-*).
    for role in (None, "readonly", "user", "manager"):
        status = 401 if role is None else 403
        put = "settings-writes-need-admin-put"
        refused(pair, put, "PUT", "/api/settings/language", as_user=role, json={"value": "x"}, status=status)
        bulk = {"settings": {"language": "x"}}
        refused(pair, put, "PUT", "/api/settings/bulk", as_user=role, json=bulk, status=status)
        gone = "settings-writes-need-admin-delete"
        refused(pair, gone, "DELETE", "/api/settings/language", as_user=role, status=status)
    admin = partial(pair.check, as_user="admin")
    admin("PUT", "/api/settings/language", json={"value": "de"}, expect=200)
    admin("PUT", "/api/settings/debug_mode", json={"value": True, "description": "Debug!"}, expect=200)
    admin("PUT", "/api/settings/new_key", json={"value": ["a", {"b": 1}]}, expect=200)
    admin("PUT", "/api/settings/new_num", json={"value": 3.5, "description": ""}, expect=200)
    admin("PUT", "/api/settings/nullish", json={"value": None}, expect=200)
    admin("PUT", "/api/settings/language", json={}, expect=400)
    admin("PUT", "/api/settings/language", json=["value"], expect=400)
    admin(
        "PUT",
        "/api/settings/language",
        content=b"{not json",
        expect=400,
        headers={"content-type": "application/json"},
    )
    admin("PUT", "/api/settings/language", data={"value": "x"}, expect=400)
    admin("PUT", "/api/settings/language", expect=400)
    admin(
        "PUT",
        "/api/settings/bulk",
        json={"settings": {"ui_theme": "dark", "max_concurrent_downloads": 5, "fresh": False}},
        expect=200,
    )
    admin("PUT", "/api/settings/bulk", json={"settings": {}}, expect=400)
    admin("PUT", "/api/settings/bulk", json={"settings": "x"}, expect=400)
    admin("PUT", "/api/settings/bulk", json={}, expect=400)
    admin("DELETE", "/api/settings/fresh", expect=200)
    admin("DELETE", "/api/settings/fresh", expect=404)
    admin("DELETE", "/api/settings/bulk", expect=404)
    admin("GET", "/api/settings/bulk", expect=404)
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
