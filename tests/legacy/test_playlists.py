from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy.orm import Session

from legacy_flask.models import Playlist, PlaylistEntry, Video
from tests.legacy.conftest import sqlite_only

PLAYLIST_KEYS = {
    "id",
    "name",
    "description",
    "user_id",
    "username",
    "is_public",
    "is_featured",
    "video_count",
    "total_duration",
    "metadata",
    "thumbnail_url",
    "created_at",
    "updated_at",
}


def _create(c, **body) -> dict:
    response = c.post("/api/playlists/", json={"name": "Mine", **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["playlist"]


@sqlite_only
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/playlists/"),
        ("post", "/api/playlists/"),
        ("get", "/api/playlists/1"),
        ("put", "/api/playlists/1"),
        ("delete", "/api/playlists/1"),
        ("post", "/api/playlists/1/videos"),
        ("delete", "/api/playlists/1/videos/1"),
        ("post", "/api/playlists/1/videos/reorder"),
    ],
)
def test_every_route_needs_a_session_username(client, method: str, path: str) -> None:
    response = getattr(client, method)(path, json={})

    assert response.status_code == 401
    assert response.get_json() == {"error": "User not found"}


def test_create_playlist_201_and_featured_only_for_privileged(login) -> None:
    user = login("user")
    created = user.post("/api/playlists/", json={"name": "Road trip", "is_public": True, "is_featured": True})

    assert created.status_code == 201
    body = created.get_json()
    assert body["success"] is True
    assert set(body["playlist"]) == PLAYLIST_KEYS
    playlist = body["playlist"]
    assert (playlist["name"], playlist["username"], playlist["is_public"], playlist["is_featured"]) == (
        "Road trip",
        "user",
        True,
        False,
    )
    assert (playlist["video_count"], playlist["total_duration"]) == (0, 0)
    assert _create(login("manager"), is_featured=True)["is_featured"] is True


def test_create_playlist_errors(login) -> None:
    user = login("user")
    missing = user.post("/api/playlists/", json={"description": "x"})
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "Playlist name is required"}
    _create(user)
    dup = user.post("/api/playlists/", json={"name": "Mine"})
    assert dup.status_code == 400
    assert dup.get_json() == {"error": "A playlist with this name already exists"}
    assert login("manager").post("/api/playlists/", json={"name": "Mine"}).status_code == 201


def test_list_shows_own_and_public_with_nested_pagination(login, db_session: Session) -> None:
    db_session.query(PlaylistEntry).delete()
    db_session.query(Playlist).delete()
    db_session.commit()
    user, manager = login("user"), login("manager")
    own = _create(user, name="own private")
    public = _create(manager, name="manager public", is_public=True)
    _create(manager, name="manager private")

    body = user.get("/api/playlists/").get_json()

    assert body["success"] is True
    assert body["pagination"] == {"page": 1, "per_page": 20, "total": 2, "pages": 1}
    listed = {p["id"]: p["can_modify"] for p in body["playlists"]}
    assert listed == {own["id"]: True, public["id"]: False}
    assert manager.get("/api/playlists/").get_json()["pagination"]["total"] == 2


def test_list_orders_by_updated_at_desc_and_caps_per_page(login, db_session: Session) -> None:
    user = login("user")
    first = _create(user, name="first")
    second = _create(user, name="second")
    db_session.get(Playlist, first["id"]).updated_at = datetime(2020, 1, 1)
    db_session.get(Playlist, second["id"]).updated_at = datetime(2021, 1, 1)
    db_session.commit()
    user.put(f"/api/playlists/{first['id']}", json={"description": "touched"})

    body = user.get("/api/playlists/?per_page=500&page=1").get_json()

    assert body["pagination"]["per_page"] == 200
    ids = [p["id"] for p in body["playlists"]]
    assert ids.index(first["id"]) < ids.index(second["id"])
    paged = user.get("/api/playlists/?per_page=1&page=2").get_json()
    assert len(paged["playlists"]) == 1 and paged["pagination"]["page"] == 2


def test_admin_list_includes_featured_private_playlists(login) -> None:
    featured = _create(login("manager"), name="staff pick", is_featured=True)

    admin_ids = [p["id"] for p in login("admin").get("/api/playlists/?per_page=200").get_json()["playlists"]]
    user_ids = [p["id"] for p in login("user").get("/api/playlists/?per_page=200").get_json()["playlists"]]

    assert featured["id"] in admin_ids and featured["id"] not in user_ids


def test_get_playlist_with_entries_and_access_rules(login) -> None:
    user, readonly = login("user"), login("readonly")
    private = _create(user, name="private")
    public = _create(user, name="public", is_public=True)
    user.post(f"/api/playlists/{public['id']}/videos", json={"video_ids": [3, 1]})

    body = readonly.get(f"/api/playlists/{public['id']}?include_entries=true").get_json()

    assert body["success"] is True and body["playlist"]["can_modify"] is False
    entries = body["playlist"]["entries"]
    assert [(e["video_id"], e["position"]) for e in entries] == [(3, 0), (1, 1)]
    assert entries[0]["added_by_username"] == "user"
    assert set(entries[0]["video"]) == {
        "id",
        "title",
        "artist_name",
        "duration",
        "thumbnail_url",
        "status",
        "year",
        "quality",
        "video_metadata",
    }
    assert "entries" not in readonly.get(f"/api/playlists/{public['id']}").get_json()["playlist"]
    denied = readonly.get(f"/api/playlists/{private['id']}")
    assert denied.status_code == 403 and denied.get_json() == {"error": "Access denied"}
    assert (
        login("manager").get(f"/api/playlists/{private['id']}").get_json()["playlist"]["can_modify"] is True
    )
    missing = user.get("/api/playlists/9999")
    assert missing.status_code == 404 and missing.get_json() == {"error": "Playlist not found"}


def test_update_playlist_by_owner_and_manager(login) -> None:
    user = login("user")
    playlist = _create(user)

    body = user.put(
        f"/api/playlists/{playlist['id']}",
        json={
            "name": "Renamed",
            "description": "d",
            "is_public": True,
            "is_featured": True,
            "thumbnail_url": "t",
        },
    ).get_json()

    assert body["success"] is True
    updated = body["playlist"]
    assert (updated["name"], updated["description"], updated["is_public"], updated["is_featured"]) == (
        "Renamed",
        "d",
        True,
        False,
    )
    assert updated["thumbnail_url"] == "t"
    managed = login("manager").put(f"/api/playlists/{playlist['id']}", json={"is_featured": True})
    assert managed.get_json()["playlist"]["is_featured"] is True


def test_update_playlist_errors(login) -> None:
    user = login("user")
    playlist = _create(user, is_public=True)
    _create(user, name="Taken")
    path = f"/api/playlists/{playlist['id']}"

    assert login("readonly").put(path, json={"name": "x"}).status_code == 403
    assert user.put("/api/playlists/9999", json={"name": "x"}).status_code == 404
    assert user.put(path, data="x").get_json() == {"error": "No data provided"}
    assert user.put(path, json={"name": ""}).status_code == 400
    dup = user.put(path, json={"name": "Taken"})
    assert dup.status_code == 400 and dup.get_json() == {"error": "A playlist with this name already exists"}
    assert user.put(path, json={"name": "Mine"}).status_code == 200  # its own name is no clash


def test_delete_playlist(login, db_session: Session) -> None:
    user = login("user")
    playlist = _create(user, is_public=True)
    user.post(f"/api/playlists/{playlist['id']}/videos", json={"video_ids": [1]})
    path = f"/api/playlists/{playlist['id']}"

    assert login("readonly").delete(path).status_code == 403
    response = user.delete(path)

    assert response.get_json() == {"success": True, "message": "Playlist 'Mine' deleted successfully"}
    assert db_session.get(Playlist, playlist["id"]) is None
    assert db_session.query(PlaylistEntry).filter_by(playlist_id=playlist["id"]).count() == 0
    assert user.delete(path).status_code == 404


def test_add_videos_counts_added_skipped_and_updates_stats(login, db_session: Session) -> None:
    user = login("user")
    playlist = _create(user)
    path = f"/api/playlists/{playlist['id']}/videos"

    first = user.post(path, json={"video_ids": [1, 2]}).get_json()
    second = user.post(path, json={"video_ids": [2, 3, 3]}).get_json()

    assert first == {"success": True, "added_count": 2, "skipped_count": 0, "total_videos": 2}
    assert second == {"success": True, "added_count": 1, "skipped_count": 2, "total_videos": 3}
    stored = db_session.get(Playlist, playlist["id"])
    duration = db_session.query(func.sum(Video.duration)).filter(Video.id.in_([1, 2, 3])).scalar()
    assert (stored.video_count, stored.total_duration) == (3, duration)
    positions = [e.position for e in db_session.query(PlaylistEntry).filter_by(playlist_id=playlist["id"])]
    assert sorted(positions) == [0, 1, 2]


def test_add_videos_errors(login) -> None:
    user = login("user")
    playlist = _create(user, is_public=True)
    path = f"/api/playlists/{playlist['id']}/videos"

    missing = user.post(path, json={"video_ids": [1, 99998, 99999]})
    assert missing.status_code == 404
    assert missing.get_json() == {"error": "Videos not found: [99998, 99999]"}
    assert user.post(path, json={}).get_json() == {"error": "video_ids is required"}
    assert user.post(path, json={"video_ids": ["1"]}).status_code == 400
    assert login("readonly").post(path, json={"video_ids": [1]}).status_code == 403
    assert user.post("/api/playlists/9999/videos", json={"video_ids": [1]}).status_code == 404


def test_remove_entry_compacts_positions_and_updates_stats(login, db_session: Session) -> None:
    user = login("user")
    playlist = _create(user)
    user.post(f"/api/playlists/{playlist['id']}/videos", json={"video_ids": [1, 2, 3]})
    entries = (
        db_session.query(PlaylistEntry).filter_by(playlist_id=playlist["id"]).order_by(PlaylistEntry.position)
    )
    first_id = entries.first().id

    response = user.delete(f"/api/playlists/{playlist['id']}/videos/{first_id}")

    assert response.get_json() == {
        "success": True,
        "message": "Video removed from playlist",
        "total_videos": 2,
    }
    remaining = [(e.video_id, e.position) for e in entries]
    assert remaining == [(2, 0), (3, 1)]
    assert db_session.get(Playlist, playlist["id"]).video_count == 2
    gone = user.delete(f"/api/playlists/{playlist['id']}/videos/{first_id}")
    assert gone.status_code == 404 and gone.get_json() == {"error": "Playlist entry not found"}


def test_remove_entry_access_rules(login) -> None:
    user = login("user")
    playlist = _create(user, is_public=True)

    assert login("readonly").delete(f"/api/playlists/{playlist['id']}/videos/1").status_code == 403
    assert user.delete("/api/playlists/9999/videos/1").status_code == 404


def test_reorder_sets_positions(login, db_session: Session) -> None:
    user = login("user")
    playlist = _create(user)
    user.post(f"/api/playlists/{playlist['id']}/videos", json={"video_ids": [1, 2]})
    ids = {e.video_id: e.id for e in db_session.query(PlaylistEntry).filter_by(playlist_id=playlist["id"])}

    response = user.post(
        f"/api/playlists/{playlist['id']}/videos/reorder",
        json={
            "entry_orders": [
                {"id": ids[1], "position": 1},
                {"id": ids[2], "position": 0},
                {"id": 424242, "position": 5},
            ]
        },
    )

    assert response.get_json() == {"success": True, "updated_count": 2}
    entries = user.get(f"/api/playlists/{playlist['id']}?include_entries=true").get_json()["playlist"][
        "entries"
    ]
    assert [e["video_id"] for e in entries] == [2, 1]


def test_reorder_errors(login) -> None:
    user = login("user")
    playlist = _create(user, is_public=True)
    path = f"/api/playlists/{playlist['id']}/videos/reorder"

    assert user.post(path, json={}).get_json() == {"error": "entry_orders is required"}
    assert user.post(path, json={"entry_orders": [{"id": "x", "position": 1}]}).status_code == 400
    assert user.post(path, json={"entry_orders": [{"id": 1, "position": None}]}).status_code == 400
    assert login("readonly").post(path, json={"entry_orders": [{"id": 1, "position": 0}]}).status_code == 403
    assert user.post("/api/playlists/9999/videos/reorder", json={"entry_orders": []}).status_code == 404
