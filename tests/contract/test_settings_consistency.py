"""Settings stay consistent across a cutover: what both sides see, and the routing rule.

Facts (legacy_flask/api/settings.py, settings_service.py, app.py):
- Both apps READ `/api/settings*` straight from the table, so reads agree whoever answers.
- Legacy also keeps a per-process cache of the table that only its OWN writes refresh; its
  login guard (`require_authentication`) and provider keys read that cache. A write answered
  by the services is therefore invisible to legacy's behaviour until legacy restarts.
- The services' cache (services/app_settings/cache.py) forgets a key on its own writes and
  holds any value at most `settings_cache_ttl` seconds, so it catches up with legacy writes.

Rule (the gateway enforces it; the last test here checks routing.yaml): every method of
`/api/settings*` moves together, with one destination and one rollout, never a canary split of
writes; and once the writes are on the services, legacy must be restarted after a change to a
setting it consumes (or no legacy route may consume settings any more).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.contract.harness import Pair, prepare_database, serve_pair

ROUTING_FILE = Path(__file__).resolve().parents[2] / "routing.yaml"
SETTINGS_PREFIX = "/api/settings"


def test_a_setting_written_through_one_side_is_read_back_through_the_other(shared_pair: Pair) -> None:
    pair = shared_pair
    assert (
        pair.send("services", "PUT", "/api/settings/language", json={"value": "fr"}, as_user="admin").status
        == 200
    )
    assert pair.send("legacy", "GET", "/api/settings/language").body["value"] == "fr"
    assert pair.send("legacy", "PUT", "/api/settings/ui_theme", json={"value": "dark"}).status == 200
    assert pair.send("services", "GET", "/api/settings/ui_theme").body["value"] == "dark"
    bulk = {"settings": {"a_flag": True, "a_list": [1, 2]}}
    assert pair.send("services", "PUT", "/api/settings/bulk", json=bulk, as_user="admin").status == 200
    assert pair.send("legacy", "GET", "/api/settings/a_flag").body["value"] == "true"
    assert pair.send("legacy", "GET", "/api/settings/a_list").body["value"] == "[1, 2]"
    assert pair.send("services", "DELETE", "/api/settings/a_flag", as_user="admin").status == 200
    assert pair.send("legacy", "GET", "/api/settings/a_flag").status == 404
    assert (
        pair.send("legacy", "GET", "/api/settings/").body
        == pair.send("services", "GET", "/api/settings/").body
    )


def test_resources_written_through_one_side_are_read_back_through_the_other(shared_pair: Pair) -> None:
    pair = shared_pair
    created = pair.send("services", "POST", "/api/videos/", json={"title": "Made Here", "artist_id": 2})
    assert created.status == 201
    video_id = created.body["id"]
    assert (
        pair.send("legacy", "GET", f"/api/videos/{video_id}").body
        == pair.send("services", "GET", f"/api/videos/{video_id}").body
    )
    playlist = pair.send("legacy", "POST", "/api/playlists/", as_user="user", json={"name": "Shared"})
    pid = playlist.body["playlist"]["id"]
    added = pair.send(
        "services", "POST", f"/api/playlists/{pid}/videos", as_user="user", json={"video_ids": [video_id]}
    )
    assert added.body == {"success": True, "added_count": 1, "skipped_count": 0, "total_videos": 1}
    old = pair.send("legacy", "GET", f"/api/playlists/{pid}?include_entries=true", as_user="user").body
    new = pair.send("services", "GET", f"/api/playlists/{pid}?include_entries=true", as_user="user").body
    assert old == new and old["playlist"]["entries"][0]["video"]["title"] == "Made Here"
    assert (
        pair.send("legacy", "PUT", f"/api/videos/{video_id}/status", json={"status": "FAILED"}).status == 200
    )
    assert pair.send("services", "GET", f"/api/videos/{video_id}").body["status"] == "FAILED"
    assert pair.send("services", "DELETE", "/api/artists/2?force=true").status == 200
    assert pair.send("legacy", "GET", f"/api/videos/{video_id}").status == 404
    assert (
        pair.send("legacy", "GET", f"/api/playlists/{pid}", as_user="user").body["playlist"]["video_count"]
        == 0
    )


def test_legacy_cache_does_not_see_a_guard_setting_written_through_services(database_url: str) -> None:
    """Why settings writes cannot be split from legacy: its cache misses services' writes."""
    prepare_database(database_url)
    with serve_pair(database_url, database_url, settings_cache_ttl=0) as pair:
        assert pair.send("legacy", "GET", "/api/videos/?limit=1").status == 200  # legacy cache loaded
        put = pair.send(
            "services", "PUT", "/api/settings/require_authentication", json={"value": True}, as_user="admin"
        )
        assert put.status == 200
        # Services enforce the new value at once; legacy keeps its stale cached "false".
        assert pair.send("services", "GET", "/api/videos/?limit=1").body == {
            "error": "Authentication required",
            "code": "AUTH_REQUIRED",
        }
        assert pair.send("legacy", "GET", "/api/videos/?limit=1").status == 200
        # Written through legacy, both sides enforce it (legacy's own write refreshes its cache).
        # (legacy still lets an anonymous client write here: its cache says "false")
        assert (
            pair.send(
                "legacy",
                "PUT",
                "/api/settings/require_authentication",
                json={"value": "true"},
                as_user="admin",
            ).status
            == 200
        )
        for side in ("legacy", "services"):
            assert pair.send(side, "GET", "/api/videos/?limit=1").status == 401
            assert pair.send(side, "GET", "/api/videos/?limit=1", as_user="readonly").status == 200
            assert pair.send(side, "GET", "/api/playlists/", as_user="readonly").status == 200


def settings_route_problems(table: dict[str, Any]) -> list[str]:
    """Why a routing table splits `/api/settings*` between sides (empty when it does not)."""
    routes = [r for r in table.get("routes") or [] if str(r.get("path", "")).startswith(SETTINGS_PREFIX)]
    problems: list[str] = []
    if not routes:
        return problems
    plans = {
        r.get("id"): (r.get("to"), r.get("target"), yaml.safe_dump(r.get("rollout"), sort_keys=True))
        for r in routes
    }
    if len(set(plans.values())) > 1:
        problems.append(f"settings routes have different destinations or rollouts: {sorted(plans)}")
    for route in routes:
        for phase in route.get("rollout") or []:
            if phase.get("mode") == "canary":
                problems.append(f"route {route.get('id')}: a canary splits settings writes between sides")
    covered = {m.upper() for r in routes for m in (r.get("methods") or ["GET", "PUT", "DELETE"])}
    if covered & {"PUT", "DELETE"} and "GET" not in covered:
        problems.append("settings writes move without the reads")
    if "GET" in covered and not covered >= {"PUT", "DELETE"}:
        problems.append("settings reads move without the writes")
    return problems


@pytest.mark.parametrize(
    ("routes", "ok"),
    [
        ([], True),
        ([{"id": "s", "path": "/api/settings/{key}", "to": "services"}], True),
        (
            [
                {"id": "r", "path": "/api/settings/{key}", "methods": ["GET"], "to": "services"},
                {"id": "w", "path": "/api/settings/{key}", "methods": ["PUT", "DELETE"], "to": "services"},
            ],
            True,
        ),
        ([{"id": "r", "path": "/api/settings/{key}", "methods": ["GET"], "to": "services"}], False),
        (
            [
                {"id": "r", "path": "/api/settings/", "methods": ["GET"], "to": "services"},
                {
                    "id": "w",
                    "path": "/api/settings/{key}",
                    "methods": ["GET", "PUT", "DELETE"],
                    "target": "services",
                    "rollout": [{"from": "2026-W50", "mode": "live"}],
                },
            ],
            False,
        ),
        (
            [
                {
                    "id": "c",
                    "path": "/api/settings/{key}",
                    "target": "services",
                    "rollout": [{"from": "2026-W50", "mode": "canary", "percent": 10}],
                }
            ],
            False,
        ),
    ],
)
def test_settings_route_rule_refuses_split_tables(routes: list[dict[str, Any]], ok: bool) -> None:
    assert (settings_route_problems({"routes": routes}) == []) is ok


def test_the_routing_table_moves_settings_reads_and_writes_together() -> None:
    table = yaml.safe_load(ROUTING_FILE.read_text())
    assert isinstance(table, dict)
    assert settings_route_problems(table) == []
