from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.orm import Session

from legacy_flask.models import Artist, Download, Playlist, PlaylistEntry, Video

LIST_KEYS = {
    "id",
    "name",
    "imvdb_id",
    "thumbnail_url",
    "auto_download",
    "keywords",
    "monitored",
    "created_at",
    "video_count",
    "folder_path",
    "has_thumbnail",
    "has_imvdb_data",
}
DETAIL_KEYS = {
    "id",
    "name",
    "imvdb_id",
    "thumbnail_url",
    "auto_download",
    "keywords",
    "monitored",
    "metadata",
    "genres",
    "video_count",
    "created_at",
}


def _counts(db_session: Session) -> dict[int, int]:
    return dict(db_session.query(Video.artist_id, func.count(Video.id)).group_by(Video.artist_id))


def test_list_pages_with_page_per_page_and_counts_videos(client, db_session: Session) -> None:
    body = client.get("/api/artists/?per_page=4&page=2").get_json()

    assert (body["total"], body["count"], body["page"], body["per_page"], body["pages"]) == (10, 4, 2, 4, 3)
    assert isinstance(body["query_time"], float)
    assert set(body["artists"][0]) == LIST_KEYS
    names = [a["name"] for a in client.get("/api/artists/").get_json()["artists"]]
    assert names == sorted(names)
    counts = _counts(db_session)
    assert all(a["video_count"] == counts.get(a["id"], 0) for a in body["artists"])


def test_list_default_page_size_is_50(client) -> None:
    body = client.get("/api/artists/").get_json()

    assert (body["page"], body["per_page"], body["pages"], body["count"]) == (1, 50, 1, 10)


def test_list_search_and_monitored_filters(client, db_session: Session) -> None:
    name = db_session.get(Artist, 5).name
    found = client.get(f"/api/artists/?search={name.lower()}").get_json()
    assert [a["id"] for a in found["artists"]] == [5]

    unmonitored = client.get("/api/artists/?monitored=false").get_json()["artists"]
    assert [a["id"] for a in unmonitored] == [7]  # every 7th seeded artist is unmonitored
    assert client.get("/api/artists/?monitored=true").get_json()["total"] == 9


def test_list_other_filters(client, db_session: Session) -> None:
    assert {a["id"] for a in client.get("/api/artists/?auto_download=true").get_json()["artists"]} == {5, 10}
    assert client.get("/api/artists/?has_thumbnail=true").get_json()["total"] == 5
    assert client.get("/api/artists/?has_thumbnail=false").get_json()["total"] == 5
    db_session.get(Artist, 1).imvdb_id = "55"
    db_session.commit()
    assert [a["id"] for a in client.get("/api/artists/?has_imvdb_id=true").get_json()["artists"]] == [1]
    assert client.get("/api/artists/?has_imvdb_id=false").get_json()["total"] == 9
    counts = _counts(db_session)
    floor = sorted(counts.values())[5]
    busy = client.get(f"/api/artists/?min_videos={floor}").get_json()["artists"]
    assert busy and all(a["video_count"] >= floor for a in busy)
    quiet = client.get(f"/api/artists/?max_videos={floor}").get_json()["artists"]
    assert quiet and all(a["video_count"] <= floor for a in quiet)


def test_list_sorts_by_video_count_desc(client) -> None:
    counts = [
        a["video_count"]
        for a in client.get("/api/artists/?sort=video_count&order=desc").get_json()["artists"]
    ]

    assert counts == sorted(counts, reverse=True)


def test_create_artist_201_then_409(client, db_session: Session) -> None:
    response = client.post("/api/artists/", json={"name": "New Band", "imvdb_id": 42, "keywords": ["live"]})

    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "name": "New Band", "message": "Artist added successfully"}
    artist = db_session.get(Artist, body["id"])
    assert (artist.imvdb_id, artist.keywords, artist.monitored, artist.auto_download) == (
        "42",
        ["live"],
        True,
        False,
    )

    dup = client.post("/api/artists/", json={"name": "new band"})
    assert dup.status_code == 409
    assert dup.get_json() == {"error": "Artist already exists"}
    assert client.post("/api/artists/", json={"name": "Other", "imvdb_id": "42"}).status_code == 409


def test_create_artist_without_name_is_400(client) -> None:
    for body in ({}, {"name": "  "}):
        response = client.post("/api/artists/", json=body)
        assert response.status_code == 400
        assert response.get_json() == {"error": "Artist name is required"}


def test_get_artist_detail_and_404(client, db_session: Session) -> None:
    body = client.get("/api/artists/2").get_json()

    assert set(body) == DETAIL_KEYS
    assert body["video_count"] == _counts(db_session).get(2, 0)
    response = client.get("/api/artists/999")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Artist not found"}


def test_put_artist_updates_fields(client, db_session: Session) -> None:
    response = client.put(
        "/api/artists/2",
        json={
            "name": "Renamed",
            "monitored": False,
            "genres": ["rock"],
            "imvdb_id": "99",
            "spotify_id": "sp1",
        },
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True and body["message"] == "Artist updated successfully"
    assert (body["artist"]["name"], body["artist"]["monitored"], body["artist"]["genres"]) == (
        "Renamed",
        False,
        ["rock"],
    )
    artist = db_session.get(Artist, 2)
    assert (artist.imvdb_id, artist.spotify_id) == ("99", "sp1")


def test_put_artist_errors(client, db_session: Session) -> None:
    other = db_session.get(Artist, 3).name
    assert client.put("/api/artists/999", json={"name": "x"}).status_code == 404
    assert client.put("/api/artists/2", data="x").get_json() == {"error": "No data provided"}
    assert client.put("/api/artists/2", json={"name": ""}).status_code == 400
    assert client.put("/api/artists/2", json={"name": other}).status_code == 409
    client.put("/api/artists/3", json={"imvdb_id": "5"})
    assert client.put("/api/artists/2", json={"imvdb_id": "5"}).status_code == 409
    db_session.expire_all()
    assert db_session.get(Artist, 2).imvdb_id is None


def test_put_artist_settings_touches_only_settings(client, db_session: Session) -> None:
    name = db_session.get(Artist, 2).name
    response = client.put(
        "/api/artists/2/settings",
        json={"auto_download": True, "keywords": ["official"], "folder_path": "/x", "name": "ignored"},
    )

    assert response.status_code == 200
    assert response.get_json() == {
        "message": "Artist settings updated successfully",
        "artist": {
            "id": 2,
            "auto_download": True,
            "monitored": True,
            "keywords": ["official"],
            "folder_path": "/x",
        },
    }
    assert db_session.get(Artist, 2).name == name
    assert client.put("/api/artists/999/settings", json={}).status_code == 404
    assert client.put("/api/artists/2/settings", data="x").status_code == 400


def test_delete_artist_with_videos_is_409_with_details(client, db_session: Session) -> None:
    videos = _counts(db_session)[1]
    downloads = db_session.query(func.count(Download.id)).filter(Download.artist_id == 1).scalar()

    response = client.delete("/api/artists/1")

    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "Artist has associated videos or downloads"
    assert (body["details"]["video_count"], body["details"]["download_count"]) == (videos, downloads)
    assert "force=true" in body["details"]["message"]
    assert db_session.get(Artist, 1) is not None


def test_delete_artist_with_force_removes_videos_entries_and_downloads(client, db_session: Session) -> None:
    artist_id = db_session.query(PlaylistEntry.video_id).join(Video).with_entities(Video.artist_id).first()[0]
    video_ids = [v for (v,) in db_session.query(Video.id).filter(Video.artist_id == artist_id)]

    response = client.delete(f"/api/artists/{artist_id}?force=true")

    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True and body["deleted_videos"] == len(video_ids)
    assert db_session.get(Artist, artist_id) is None
    assert db_session.query(Video).filter(Video.id.in_(video_ids)).count() == 0
    assert db_session.query(PlaylistEntry).filter(PlaylistEntry.video_id.in_(video_ids)).count() == 0
    for playlist in db_session.query(Playlist):
        assert (
            playlist.video_count == db_session.query(PlaylistEntry).filter_by(playlist_id=playlist.id).count()
        )


def test_delete_artist_without_videos_needs_no_force_and_404_after(client) -> None:
    artist_id = client.post("/api/artists/", json={"name": "Empty"}).get_json()["id"]

    assert client.delete(f"/api/artists/{artist_id}").get_json()["success"] is True
    response = client.delete(f"/api/artists/{artist_id}")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Artist not found"}
