"""`/api/playlists`: services answer exactly what legacy answers, for every role."""

from __future__ import annotations

import pytest

from tests.contract._deliberate import refused
from tests.contract.harness import USERS, Pair


def test_playlist_reads_match_legacy_for_every_role(pair: Pair) -> None:
    pair.check("GET", "/api/playlists/", expect=401)
    pair.check("GET", "/api/playlists/1", expect=401)
    for user in USERS:
        pair.check("GET", "/api/playlists/", as_user=user, expect=200)
        pair.check("GET", "/api/playlists/?page=2&per_page=2", as_user=user, expect=200)
        pair.check("GET", "/api/playlists/?page=abc&per_page=500", as_user=user, expect=200)
        pair.check("GET", "/api/playlists/?page=50&per_page=0", as_user=user, expect=200)
        for playlist_id in range(1, 6):
            pair.check("GET", f"/api/playlists/{playlist_id}", as_user=user)
            pair.check("GET", f"/api/playlists/{playlist_id}?include_entries=true", as_user=user)
    pair.check("GET", "/api/playlists/77", as_user="user", expect=404)
    pair.check("GET", "/api/playlists", as_user="user", expect=308)
    pair.send("legacy", "GET", "/api/playlists/", as_user="user")


def test_playlist_cookie_tampering_is_refused_alike(pair: Pair) -> None:
    forged = pair.session_cookies["admin"][:-3] + "AAA"
    for side in ("legacy", "services"):
        client = pair.legacy if side == "legacy" else pair.services
        client.cookies.clear()
        response = client.get("/api/playlists/", cookies={"mvidarr_session": forged})
        assert (response.status_code, response.json()) == (401, {"error": "User not found"})


def test_playlist_writes_match_legacy(pair: Pair) -> None:
    created = pair.check(
        "POST",
        "/api/playlists/",
        as_user="user",
        json={"name": " Road Trip ", "description": "d", "is_public": "true", "is_featured": True},
        expect=201,
    ).json()
    pid = created["playlist"]["id"]
    pair.check("POST", "/api/playlists/", as_user="user", json={"name": "Road Trip"}, expect=400)
    pair.check("POST", "/api/playlists/", as_user="user", json={"name": ""}, expect=400)
    pair.check("POST", "/api/playlists/", as_user="user", json=[], expect=400)
    pair.check("POST", "/api/playlists/", json={"name": "anon"}, expect=401)
    pair.check(
        "POST", "/api/playlists/", as_user="manager", json={"name": "Featured", "is_featured": 1}, expect=201
    )

    pair.check(
        "POST",
        f"/api/playlists/{pid}/videos",
        as_user="user",
        json={"video_ids": [3, 1, 2, 3, 1]},
        expect=200,
    )
    pair.check("POST", f"/api/playlists/{pid}/videos", as_user="user", json={"video_ids": [2, 4]}, expect=200)
    pair.check(
        "POST",
        f"/api/playlists/{pid}/videos",
        as_user="user",
        json={"video_ids": [4, 99999, 88888]},
        expect=404,
    )
    pair.check("POST", f"/api/playlists/{pid}/videos", as_user="user", json={"video_ids": []}, expect=400)
    pair.check("POST", f"/api/playlists/{pid}/videos", as_user="user", json={"video_ids": ["1"]}, expect=400)
    pair.check("POST", f"/api/playlists/{pid}/videos", as_user="user", json={"video_ids": [True]}, expect=400)
    pair.check("POST", f"/api/playlists/{pid}/videos", as_user="user", json={}, expect=400)
    refused(
        pair,
        "content-writes-need-can-modify-post",
        "POST",
        f"/api/playlists/{pid}/videos",
        as_user="readonly",
        json={"video_ids": [5]},
        legacy_status=403,
    )
    pair.check("POST", "/api/playlists/999/videos", as_user="user", json={"video_ids": [5]}, expect=404)
    detail = pair.check("GET", f"/api/playlists/{pid}?include_entries=yes", as_user="user", expect=200).json()
    entries = detail["playlist"]["entries"]

    pair.check(
        "POST",
        f"/api/playlists/{pid}/videos/reorder",
        as_user="user",
        json={
            "entry_orders": [
                {"id": entries[0]["id"], "position": 3},
                {"id": entries[3]["id"], "position": 0},
                {"id": 424242, "position": 1},
            ]
        },
        expect=200,
    )
    pair.check(
        "POST",
        f"/api/playlists/{pid}/videos/reorder",
        as_user="user",
        json={"entry_orders": [{"id": "1", "position": 0}]},
        expect=400,
    )
    pair.check(
        "POST",
        f"/api/playlists/{pid}/videos/reorder",
        as_user="user",
        json={"entry_orders": [{"id": 1, "position": None}]},
        expect=400,
    )
    pair.check(
        "POST", f"/api/playlists/{pid}/videos/reorder", as_user="user", json={"entry_orders": []}, expect=400
    )
    pair.check(
        "POST", f"/api/playlists/{pid}/videos/reorder", as_user="user", json={"entry_orders": [5]}, expect=400
    )
    pair.check("DELETE", f"/api/playlists/{pid}/videos/reorder", as_user="user", expect=405)
    pair.check("GET", f"/api/playlists/{pid}?include_entries=true", as_user="user", expect=200)

    pair.check("DELETE", f"/api/playlists/{pid}/videos/{entries[1]['id']}", as_user="user", expect=200)
    pair.check("DELETE", f"/api/playlists/{pid}/videos/{entries[1]['id']}", as_user="user", expect=404)
    pair.check("DELETE", f"/api/playlists/{pid}/videos/1", as_user="user", expect=404)
    refused(
        pair,
        "playlist-deletes-need-can-modify",
        "DELETE",
        f"/api/playlists/{pid}/videos/{entries[2]['id']}",
        as_user="readonly",
        legacy_status=403,
    )
    pair.check("GET", f"/api/playlists/{pid}?include_entries=true", as_user="admin", expect=200)

    pair.check(
        "PUT",
        f"/api/playlists/{pid}",
        as_user="user",
        json={
            "name": "Road Trip 2",
            "description": None,
            "is_public": False,
            "is_featured": True,
            "thumbnail_url": "t",
        },
        expect=200,
    )
    pair.check("PUT", f"/api/playlists/{pid}", as_user="admin", json={"is_featured": "on"}, expect=200)
    pair.check("PUT", f"/api/playlists/{pid}", as_user="user", json={"name": "Featured"}, expect=200)
    pair.check("PUT", f"/api/playlists/{pid}", as_user="user", json={"name": " "}, expect=400)
    pair.check("PUT", f"/api/playlists/{pid}", as_user="user", json="x", expect=400)
    refused(
        pair,
        "content-writes-need-can-modify-put",
        "PUT",
        f"/api/playlists/{pid}",
        as_user="readonly",
        json={"name": "mine"},
        legacy_status=403,
    )
    pair.check("PUT", f"/api/playlists/{pid}", as_user="manager", json={}, expect=200)
    pair.check("PUT", "/api/playlists/4242", as_user="user", json={}, expect=404)
    pair.check("GET", f"/api/playlists/{pid}", as_user="readonly", expect=403)
    pair.check("GET", "/api/playlists/?per_page=200", as_user="admin", expect=200, unordered="playlists")

    refused(
        pair,
        "playlist-deletes-need-can-modify",
        "DELETE",
        f"/api/playlists/{pid}",
        as_user="readonly",
        legacy_status=403,
    )
    pair.check("DELETE", f"/api/playlists/{pid}", as_user="manager", expect=200)
    pair.check("DELETE", f"/api/playlists/{pid}", as_user="manager", expect=404)
    pair.check("DELETE", f"/api/playlists/{pid}", expect=401)
    pair.check("GET", "/api/playlists/?per_page=200", as_user="user", expect=200, unordered="playlists")


@pytest.mark.parametrize("user", ["readonly", "manager"])
def test_playlist_permissions_on_others_playlists_match_legacy(pair: Pair, user: str) -> None:
    rows = pair.send("legacy", "GET", "/api/playlists/?per_page=200", as_user="admin").json()["playlists"]
    for playlist in rows:
        pid = playlist["id"]
        if user == "readonly":  # READONLY writes nothing on services, its own playlists included
            put, post = "content-writes-need-can-modify-put", "content-writes-need-can-modify-post"
            refused(pair, put, "PUT", f"/api/playlists/{pid}", as_user=user, json={"description": "changed"})
            refused(pair, post, "POST", f"/api/playlists/{pid}/videos", as_user=user, json={"video_ids": [9]})
        else:
            pair.check("PUT", f"/api/playlists/{pid}", as_user=user, json={"description": "changed"})
            pair.check("POST", f"/api/playlists/{pid}/videos", as_user=user, json={"video_ids": [9]})
        pair.check("GET", f"/api/playlists/{pid}?include_entries=true", as_user=user)
