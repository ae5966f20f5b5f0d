from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.orm import Session

from legacy_flask.models import Artist, Download, Playlist, PlaylistEntry, Video, VideoBlacklist, VideoStatus

VIDEO_KEYS = {
    "id",
    "title",
    "artist_id",
    "artist_name",
    "status",
    "imvdb_id",
    "video_url",
    "local_path",
    "thumbnail_url",
    "duration",
    "quality",
    "year",
    "video_metadata",
    "created_at",
}


def _search(client, query: str) -> dict:
    response = client.get(f"/api/videos/search?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_list_without_limit_returns_every_video_sorted_by_title(client, db_session: Session) -> None:
    body = client.get("/api/videos/").get_json()

    total = db_session.query(func.count(Video.id)).scalar()
    assert (body["total"], body["count"], body["offset"], body["limit"]) == (total, total, 0, None)
    assert set(body["videos"][0]) == VIDEO_KEYS
    titles = [v["title"] for v in body["videos"]]
    assert titles == sorted(titles)


def test_list_pages_with_limit_offset_and_sorts(client, db_session: Session) -> None:
    body = client.get("/api/videos/?sort=year&order=desc&limit=5&offset=2").get_json()

    expected = [
        vid for (vid,) in db_session.query(Video.id).order_by(Video.year.desc(), Video.id).offset(2).limit(5)
    ]
    assert [v["id"] for v in body["videos"]] == expected
    assert (body["count"], body["limit"], body["offset"]) == (5, 5, 2)


def test_list_sorts_by_artist_name_and_falls_back_to_title_for_unknown_sort(client) -> None:
    names = [
        v["artist_name"] for v in client.get("/api/videos/?sort=artist_name&limit=50").get_json()["videos"]
    ]
    assert names == sorted(names)
    titles = [v["title"] for v in client.get("/api/videos/?sort=bogus&limit=20").get_json()["videos"]]
    assert titles == sorted(titles)


def test_list_item_carries_uppercase_status_and_iso_dates(client) -> None:
    video = client.get("/api/videos/?limit=1").get_json()["videos"][0]

    assert video["status"] in VideoStatus.__members__
    assert datetime.fromisoformat(video["created_at"])
    assert video["video_url"].startswith("https://www.youtube.com/watch?v=")


def test_search_defaults_limit_100_echoes_filters_and_includes_genres(client) -> None:
    body = _search(client, "")

    assert body["limit"] == 100 and body["count"] == 100 and body["total"] == 250
    assert "genres" in body["videos"][0]
    assert body["filters"]["sort"] == "title" and body["filters"]["order"] == "asc"
    assert body["filters"]["q"] is None


def test_search_q_matches_title_or_artist_name(client, db_session: Session) -> None:
    artist = db_session.get(Artist, 2).name
    by_artist = _search(client, f"q={artist.split()[0]}&limit=1000")
    assert any(v["artist_name"] == artist for v in by_artist["videos"])
    by_title = _search(client, "q=rain&limit=1000")
    assert by_title["total"] > 0
    assert all("rain" in (v["title"] + v["artist_name"]).lower() for v in by_title["videos"])
    assert by_title["filters"]["q"] == "rain"


def test_search_by_artist_accepts_both_parameter_names(client, db_session: Session) -> None:
    artist = db_session.get(Artist, 3)
    expected = db_session.query(func.count(Video.id)).filter(Video.artist_id == 3).scalar()

    for name in ("artist", "artist_name"):
        body = _search(client, f"{name}={artist.name}&limit=1000")
        assert body["total"] == expected
        assert body["filters"]["artist"] == artist.name


def test_search_status_is_case_insensitive_and_invalid_status_is_400(client, db_session: Session) -> None:
    expected = db_session.query(func.count(Video.id)).filter(Video.status == VideoStatus.DOWNLOADED).scalar()

    body = _search(client, "status=downloaded")
    assert body["total"] == expected and body["filters"]["status"] == "DOWNLOADED"
    response = client.get("/api/videos/search?status=nope")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Invalid status: NOPE"}


def test_search_year_filters(client) -> None:
    assert all(v["year"] == 2000 for v in _search(client, "year=2000&limit=1000")["videos"])
    ranged = _search(client, "year_from=1990&year_to=1995&limit=1000")
    assert ranged["total"] > 0 and all(1990 <= v["year"] <= 1995 for v in ranged["videos"])
    assert ranged["filters"]["year_from"] == 1990 and ranged["filters"]["year_to"] == 1995


def test_search_genre_quality_source_and_thumbnail_filters(client, db_session: Session) -> None:
    rock = _search(client, "genre=rock&limit=1000")
    assert rock["total"] > 0 and all("rock" in v["genres"] for v in rock["videos"])
    hd = _search(client, "quality=720p&limit=1000")
    assert hd["total"] > 0 and all(v["quality"] == "720p" for v in hd["videos"])
    manual = db_session.query(func.count(Video.id)).filter(Video.source == "manual").scalar()
    assert _search(client, "source=manual")["total"] == manual
    with_thumb = _search(client, "has_thumbnail=true&limit=1000")
    without = _search(client, "has_thumbnail=false&limit=1000")
    assert with_thumb["total"] + without["total"] == 250
    assert all(v["thumbnail_url"] for v in with_thumb["videos"])
    assert all(not v["thumbnail_url"] for v in without["videos"])


def test_search_duration_and_date_filters(client) -> None:
    short = _search(client, "duration_min=200&duration_max=250&limit=1000")
    assert short["total"] > 0 and all(200 <= v["duration"] <= 250 for v in short["videos"])
    dated = _search(client, "date_from=2025-02-01&date_to=2025-02-02T00:00:00&limit=1000")
    assert dated["total"] > 0
    assert all("2025-02-01" <= v["created_at"] < "2025-02-02" for v in dated["videos"])
    assert _search(client, "date_from=not-a-date")["total"] == 250


def test_search_keywords_and_sort_aliases(client, db_session: Session) -> None:
    video = db_session.get(Video, 7)
    video.search_keywords = "zebra-unique-keyword"
    db_session.commit()

    assert [v["id"] for v in _search(client, "keywords=zebra-unique")["videos"]] == [7]
    body = _search(client, "sort_by=duration&sort_order=desc&limit=10&offset=1")
    durations = [v["duration"] for v in body["videos"]]
    assert durations == sorted(durations, reverse=True)
    assert body["offset"] == 1 and body["filters"]["sort"] == "duration"


def test_create_video_returns_201(client, db_session: Session) -> None:
    response = client.post(
        "/api/videos/",
        json={"title": "Brand New", "artist_id": 1, "imvdb_id": "123", "year": 2024, "genres": ["pop"]},
    )

    assert response.status_code == 201
    body = response.get_json()
    assert body["title"] == "Brand New" and body["message"] == "Video added successfully"
    video = db_session.get(Video, body["id"])
    assert (video.artist_id, video.status, video.genres) == (1, VideoStatus.WANTED, ["pop"])


def test_create_video_errors(client) -> None:
    assert client.post("/api/videos/", data="x").status_code == 400
    missing = client.post("/api/videos/", json={"title": "x"})
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "Title and artist_id are required"}
    assert client.post("/api/videos/", json={"title": "x", "artist_id": 999}).get_json() == {
        "error": "Artist not found"
    }
    assert client.post("/api/videos/", json={"title": "x", "artist_id": "abc"}).status_code == 404
    assert client.post("/api/videos/", json={"title": "x", "artist_id": "2"}).status_code == 201
    dup = client.post("/api/videos/", json={"title": "x", "artist_id": 1, "imvdb_id": "900001"})
    assert dup.status_code == 409
    bad = client.post("/api/videos/", json={"title": "x", "artist_id": 1, "status": "lost"})
    assert bad.status_code == 400


def test_get_video_and_404(client, db_session: Session) -> None:
    body = client.get("/api/videos/5").get_json()

    assert set(body) == VIDEO_KEYS | {"genres"}
    assert body["artist_name"] == db_session.get(Artist, body["artist_id"]).name
    response = client.get("/api/videos/99999")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Video not found"}


def test_put_video_updates_fields_and_returns_the_video(client, db_session: Session) -> None:
    response = client.put(
        "/api/videos/5",
        json={
            "title": "Edited",
            "year": 1999,
            "status": "ignored",
            "video_url": "https://youtu.be/x",
            "duration": 61,
            "genres": ["jazz"],
            "imvdb_id": "777",
        },
    )

    assert response.status_code == 200
    body = response.get_json()
    assert (body["title"], body["year"], body["status"], body["video_url"]) == (
        "Edited",
        1999,
        "IGNORED",
        "https://youtu.be/x",
    )
    assert (body["duration"], body["genres"], body["imvdb_id"]) == (61, ["jazz"], "777")
    assert db_session.get(Video, 5).title == "Edited"


def test_put_video_artist_name_relinks_or_creates_artist(client, db_session: Session) -> None:
    existing = db_session.get(Artist, 4).name
    assert client.put("/api/videos/5", json={"artist_name": existing.upper()}).get_json()["artist_id"] == 4

    body = client.put("/api/videos/5", json={"artist_name": "Totally New Artist"}).get_json()

    created = db_session.query(Artist).filter_by(name="Totally New Artist").one()
    assert body["artist_id"] == created.id and body["artist_name"] == "Totally New Artist"


def test_put_video_errors(client) -> None:
    assert client.put("/api/videos/99999", json={"title": "x"}).status_code == 404
    assert client.put("/api/videos/5", data="x").get_json() == {"error": "No data provided"}
    assert client.put("/api/videos/5", json={"title": "  "}).get_json() == {"error": "Title cannot be empty"}
    assert client.put("/api/videos/5", json={"status": "gone"}).status_code == 400
    clash = client.put("/api/videos/5", json={"imvdb_id": "900001"})
    assert clash.status_code == 409


def test_put_status_answers_old_and_new(client, db_session: Session) -> None:
    old = db_session.get(Video, 6).status.value
    response = client.put("/api/videos/6/status", json={"status": "failed"})

    assert response.status_code == 200
    assert response.get_json() == {
        "success": True,
        "message": f"Video status updated from {old} to FAILED",
        "video_id": 6,
        "old_status": old,
        "new_status": "FAILED",
    }
    db_session.expire_all()
    assert db_session.get(Video, 6).status == VideoStatus.FAILED


def test_put_status_errors(client) -> None:
    assert client.put("/api/videos/6/status", json={}).get_json() == {"error": "Status is required"}
    invalid = client.put("/api/videos/6/status", json={"status": "MONITORED"})
    assert invalid.status_code == 400 and "Invalid status" in invalid.get_json()["error"]
    assert client.put("/api/videos/99999/status", json={"status": "WANTED"}).status_code == 404


def _video_in_playlist_with_download(db_session: Session) -> Video:
    entry = db_session.query(PlaylistEntry).order_by(PlaylistEntry.id).first()
    video = db_session.get(Video, entry.video_id)
    db_session.add(
        Download(artist_id=video.artist_id, video_id=video.id, title=video.title, original_url="u")
    )
    db_session.commit()
    return video


def test_delete_video_removes_entries_downloads_and_blacklists(client, db_session: Session) -> None:
    video = _video_in_playlist_with_download(db_session)
    playlist_id = db_session.query(PlaylistEntry.playlist_id).filter_by(video_id=video.id).first()[0]
    before = db_session.get(Playlist, playlist_id).video_count
    video_id, title, url = video.id, video.title, video.youtube_url

    response = client.delete(f"/api/videos/{video.id}", json={"add_to_blacklist": True})

    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] == "Video deleted successfully"
    assert body["video"] == {"id": video.id, "title": video.title, "artist_name": video.artist.name}
    assert body["playlist_entries_removed"] >= 1 and body["downloads_removed"] >= 1
    assert body["blacklisted"] is True
    db_session.expire_all()
    assert db_session.get(Video, video_id) is None
    assert db_session.query(Download).filter_by(video_id=video_id).count() == 0
    assert db_session.get(VideoBlacklist, url).title == title
    assert db_session.get(Playlist, playlist_id).video_count == before - 1


def test_delete_video_without_blacklist_and_404(client, db_session: Session) -> None:
    body = client.delete("/api/videos/9").get_json()

    assert body["blacklisted"] is False and body["playlist_entries_removed"] >= 0
    assert db_session.query(VideoBlacklist).count() == 0
    response = client.delete("/api/videos/9")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Video not found"}
