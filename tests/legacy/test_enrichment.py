"""Metadata enrichment against the fake provider server over real sockets (no mocks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from legacy_flask.app import create_app
from legacy_flask.extensions import ENGINE_KEY
from legacy_flask.models import Artist, Setting, Video
from legacy_flask.seed import artist_name
from tests.fakes import _catalog as catalog
from tests.fakes import providers
from tests.fakes.support import RunningFake, provider_config, running_fake

FAST = {"MUSICBRAINZ_MIN_INTERVAL": 0.12, "IMVDB_MIN_INTERVAL": 0, "IMVDB_RETRY_PAUSE": 0.01}


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[RunningFake]:
    with running_fake() as running:
        yield running


@pytest.fixture
def fake(shared_fake: RunningFake) -> RunningFake:
    state = shared_fake.state
    state.behaviour = {name: providers.ProviderBehaviour() for name in providers.PROVIDERS}
    state.musicbrainz_min_interval = 0.1
    state.reset()
    return shared_fake


@pytest.fixture
def make_app(seeded_url: str, fake: RunningFake, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def _make(**overrides: Any) -> Flask:
        config = {
            "DATABASE_URL": seeded_url,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "MVIDARR_LOG_FILE": str(tmp_path / "legacy.log"),
            **provider_config(fake.url, **FAST),
        }
        config.update(overrides)
        application = create_app(config)
        apps.append(application)
        return application

    yield _make
    for application in apps:
        application.extensions[ENGINE_KEY].dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


def artist_row(app: Flask, artist_id: int) -> Artist:
    with Session(app.extensions[ENGINE_KEY]) as session:
        artist = session.get(Artist, artist_id)
        assert artist is not None
        session.expunge(artist)
        return artist


def add_artist(app: Flask, name: str, **fields: Any) -> int:
    with Session(app.extensions[ENGINE_KEY]) as session:
        artist = Artist(name=name, **fields)
        session.add(artist)
        session.commit()
        return int(artist.id)


def add_video(app: Flask, artist_id: int, title: str, **fields: Any) -> int:
    with Session(app.extensions[ENGINE_KEY]) as session:
        video = Video(artist_id=artist_id, title=title, **fields)
        session.add(video)
        session.commit()
        return int(video.id)


def video_row(app: Flask, video_id: int) -> Video:
    with Session(app.extensions[ENGINE_KEY]) as session:
        video = session.get(Video, video_id)
        assert video is not None
        session.expunge(video)
        return video


# ------------------------------------------------------------- artist enrichment


def test_enrich_answers_enrichment_result_and_writes_every_provider_id(app: Flask, fake: RunningFake) -> None:
    name = artist_name(1)
    response = app.test_client().post("/api/metadata-enrichment/enrich/1")
    body = response.get_json()
    artist = artist_row(app, 1)

    assert response.status_code == 200
    assert body["success"] is True
    assert body["artist_id"] == 1
    assert body["sources_used"] == ["spotify", "musicbrainz", "lastfm", "imvdb"]
    assert set(body["enriched_fields"]) == {
        "spotify_id",
        "lastfm_name",
        "imvdb_id",
        "musicbrainz_id",
        "genres",
    }
    assert body["errors"] == []
    assert body["confidence_score"] == pytest.approx((0.9 + 0.95 + 0.8 + 0.85) / 4, abs=0.001)
    assert isinstance(body["processing_time"], float)
    assert {p: s["status"] for p, s in body["providers"].items()} == dict.fromkeys(
        providers.PROVIDERS, "found"
    )
    assert artist.spotify_id == catalog.spotify_id(name)
    assert artist.lastfm_name == name
    assert artist.imvdb_id == str(catalog.imvdb_artist_id(name))
    assert artist.imvdb_metadata["musicbrainz_id"] == catalog.musicbrainz_id(name)
    assert artist.imvdb_metadata["enrichment_date"]
    assert set(catalog.genres_for(name, 3)) <= set(artist.genres)


def test_enrich_skips_an_artist_enriched_in_the_last_24_hours(app: Flask, fake: RunningFake) -> None:
    client = app.test_client()
    client.post("/api/metadata-enrichment/enrich/1")
    calls_before = fake.stats()["calls"]
    again = client.post("/api/metadata-enrichment/enrich/1").get_json()
    assert again["skipped"] is True
    assert again["success"] is True
    assert again["sources_used"] == []
    assert "24 hours" in again["message"]
    assert fake.stats()["calls"] == calls_before


@pytest.mark.parametrize("how", ["query", "body"])
def test_enrich_with_force_refreshes_a_fresh_artist(app: Flask, fake: RunningFake, how: str) -> None:
    client = app.test_client()
    client.post("/api/metadata-enrichment/enrich/1")
    first_date = artist_row(app, 1).imvdb_metadata["enrichment_date"]
    if how == "query":
        response = client.post("/api/metadata-enrichment/enrich/1?force=true")
    else:
        response = client.post("/api/metadata-enrichment/enrich/1", json={"force_refresh": True})
    body = response.get_json()
    assert body["skipped"] is False
    assert body["sources_used"] == ["spotify", "musicbrainz", "lastfm", "imvdb"]
    assert body["enriched_fields"] == []
    assert artist_row(app, 1).imvdb_metadata["enrichment_date"] > first_date


def test_enrich_refreshes_an_artist_whose_enrichment_is_older_than_a_day(
    app: Flask, fake: RunningFake
) -> None:
    artist_id = add_artist(app, "Stale Band", imvdb_metadata={"enrichment_date": "2020-01-01T00:00:00"})
    body = app.test_client().post(f"/api/metadata-enrichment/enrich/{artist_id}").get_json()
    assert body["skipped"] is False
    assert artist_row(app, artist_id).imvdb_metadata["enrichment_date"] > "2020-01-02"


def test_enrich_unknown_artist_is_404(app: Flask) -> None:
    response = app.test_client().post("/api/metadata-enrichment/enrich/99999")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Artist not found"}


def test_a_failing_provider_is_recorded_in_errors_and_the_others_still_write(
    app: Flask, fake: RunningFake
) -> None:
    fake.configure(lastfm={"error_rate": 1.0})
    response = app.test_client().post("/api/metadata-enrichment/enrich/1")
    body = response.get_json()
    artist = artist_row(app, 1)
    assert response.status_code == 200
    assert body["errors"] == [
        "lastfm: Last.fm API error: There was a temporary error processing your request. Please try again"
    ]
    assert body["providers"]["lastfm"]["status"] == "error"
    assert body["sources_used"] == ["spotify", "musicbrainz", "imvdb"]
    assert body["success"] is True
    assert artist.lastfm_name is None
    assert artist.spotify_id == catalog.spotify_id(artist_name(1))


def test_every_provider_failing_answers_success_false_and_writes_nothing(
    app: Flask, fake: RunningFake
) -> None:
    fake.configure(**{p: {"error_rate": 1.0} for p in providers.PROVIDERS})
    response = app.test_client().post("/api/metadata-enrichment/enrich/1")
    body = response.get_json()
    artist = artist_row(app, 1)
    assert response.status_code == 200
    assert body["success"] is False
    assert body["confidence_score"] == 0.0
    assert [e.split(":")[0] for e in body["errors"]] == list(providers.PROVIDERS)
    assert (artist.spotify_id, artist.lastfm_name, artist.imvdb_id, artist.imvdb_metadata) == (
        None,
        None,
        None,
        None,
    )


def test_an_artist_no_provider_knows_is_not_found_everywhere(app: Flask, fake: RunningFake) -> None:
    artist_id = add_artist(app, "Nomatch Collective")
    body = app.test_client().post(f"/api/metadata-enrichment/enrich/{artist_id}").get_json()
    assert body["success"] is False
    assert body["errors"] == []
    assert {s["status"] for s in body["providers"].values()} == {"not_found"}
    assert artist_row(app, artist_id).imvdb_metadata is None


def test_providers_without_credentials_are_skipped_not_errors(make_app: Callable[..., Flask]) -> None:
    app = make_app(SPOTIFY_CLIENT_ID="", LASTFM_API_KEY="", IMVDB_API_KEY="")
    body = app.test_client().post("/api/metadata-enrichment/enrich/1").get_json()
    assert body["errors"] == []
    assert body["sources_used"] == ["musicbrainz"]
    assert {p: body["providers"][p]["status"] for p in ("spotify", "lastfm", "imvdb")} == dict.fromkeys(
        ("spotify", "lastfm", "imvdb"), "not_configured"
    )


def test_keys_in_the_settings_table_win_over_the_environment(
    make_app: Callable[..., Flask], fake: RunningFake
) -> None:
    app = make_app(LASTFM_API_KEY="wrong-env-key")
    with Session(app.extensions[ENGINE_KEY]) as session:
        session.query(Setting).filter_by(key="lastfm_api_key").update({"value": providers.LASTFM_API_KEY})
        session.commit()
    body = app.test_client().post("/api/metadata-enrichment/enrich/1").get_json()
    assert "lastfm" in body["sources_used"]


def test_a_wrong_lastfm_key_is_reported_with_lastfms_message(make_app: Callable[..., Flask]) -> None:
    app = make_app(LASTFM_API_KEY="wrong")
    body = app.test_client().post("/api/metadata-enrichment/enrich/1").get_json()
    assert (
        "lastfm: Last.fm API error: Invalid API key - You must be granted a valid key by last.fm"
        in body["errors"]
    )


def test_musicbrainz_can_be_switched_off_by_setting(
    make_app: Callable[..., Flask], fake: RunningFake
) -> None:
    app = make_app()
    with Session(app.extensions[ENGINE_KEY]) as session:
        session.query(Setting).filter_by(key="musicbrainz_enabled").update({"value": "false"})
        session.commit()
    body = app.test_client().post("/api/metadata-enrichment/enrich/1").get_json()
    assert body["providers"]["musicbrainz"]["status"] == "disabled"
    assert fake.stats()["calls"]["musicbrainz"] == 0


def test_an_imvdb_id_held_by_another_artist_is_an_error_not_a_500(app: Flask, fake: RunningFake) -> None:
    taken = str(catalog.imvdb_artist_id(artist_name(1)))
    with Session(app.extensions[ENGINE_KEY]) as session:
        session.query(Artist).filter_by(id=2).update({"imvdb_id": taken})
        session.commit()
    response = app.test_client().post("/api/metadata-enrichment/enrich/1")
    assert response.status_code == 200
    assert response.get_json()["errors"] == [f"imvdb: id {taken} already belongs to artist 2"]
    assert artist_row(app, 1).imvdb_id is None
    assert artist_row(app, 1).spotify_id is not None


def test_spotify_token_is_reused_across_requests(app: Flask, fake: RunningFake) -> None:
    client = app.test_client()
    client.post("/api/metadata-enrichment/enrich/1")
    client.post("/api/metadata-enrichment/enrich/2")
    assert fake.stats()["spotify"]["tokens_issued"] <= 1
    assert fake.stats()["endpoints"]["spotify.search"] == 2


def test_musicbrainz_requests_stay_one_second_apart_by_default(
    make_app: Callable[..., Flask], fake: RunningFake
) -> None:
    fake.state.musicbrainz_min_interval = 1.0
    app = make_app(MUSICBRAINZ_MIN_INTERVAL=None)  # the faithful default: 1 s
    client = app.test_client()
    for artist_id in (1, 2):
        assert (
            "musicbrainz"
            in client.post(f"/api/metadata-enrichment/enrich/{artist_id}").get_json()["sources_used"]
        )
    stats = fake.stats()["musicbrainz"]
    assert fake.stats()["calls"]["musicbrainz"] == 2
    assert stats["violations"] == 0
    assert list(stats["user_agents"]) == ["MVidarr/0.9.7 (https://github.com/prefect421/mvidarr)"]


def test_a_client_that_ignores_the_spacing_is_refused_and_reports_it(
    make_app: Callable[..., Flask], fake: RunningFake
) -> None:
    fake.state.musicbrainz_min_interval = 5.0
    app = make_app(MUSICBRAINZ_MIN_INTERVAL=0)
    client = app.test_client()
    client.post("/api/metadata-enrichment/enrich/1")
    second = client.post("/api/metadata-enrichment/enrich/2").get_json()
    assert second["errors"] == ["musicbrainz: MusicBrainz rate limit exceeded (HTTP 503)"]
    assert fake.stats()["musicbrainz"]["violations"] == 1


def test_enrichment_is_logged_to_the_app_log(app: Flask, tmp_path: Path) -> None:
    app.test_client().post("/api/metadata-enrichment/enrich/1")
    assert (
        "enrichment.artist artist_id=1 sources=spotify,musicbrainz,lastfm,imvdb"
        in (tmp_path / "legacy.log").read_text()
    )


# ---------------------------------------------------------------- video refresh


def test_refresh_metadata_merges_imvdb_video_and_lastfm_track(app: Flask, fake: RunningFake) -> None:
    artist_id = add_artist(app, "The Bright Harbor Tribute")
    video_id = add_video(app, artist_id, "Neon Nights")
    response = app.test_client().post(f"/api/videos/{video_id}/refresh-metadata")
    body = response.get_json()
    video = video_row(app, video_id)
    imvdb_id = catalog.imvdb_video_id("The Bright Harbor Tribute", "Neon Nights")
    expected = catalog.imvdb_video(imvdb_id, "The Bright Harbor Tribute", "Neon Nights", detailed=True)
    track = catalog.lastfm_track("The Bright Harbor Tribute", "Neon Nights")

    assert response.status_code == 200
    assert body["success"] is True
    assert body["video_id"] == video_id
    assert body["sources_used"] == ["imvdb", "lastfm"]
    assert body["video"]["imvdb_id"] == str(imvdb_id)
    assert video.imvdb_id == str(imvdb_id)
    assert video.year == expected["year"]
    assert video.directors == [expected["directors"][0]["entity_name"]]
    assert video.youtube_id == expected["sources"][0]["source_data"]
    assert video.duration == int(track["duration"]) // 1000
    assert video.genres == catalog.genres_for("Neon Nights", 2)
    assert video.video_metadata["lastfm_url"] == track["url"]
    assert video.video_metadata["metadata_refreshed_at"]
    assert video.imvdb_metadata["id"] == imvdb_id


def test_refresh_metadata_uses_the_stored_imvdb_id_when_imvdb_knows_it(app: Flask, fake: RunningFake) -> None:
    artist_id = add_artist(app, "Known Artist")
    video_id = add_video(app, artist_id, "Known Song", duration=200, youtube_id="keepme12345")
    client = app.test_client()
    client.post(f"/api/videos/{video_id}/refresh-metadata")
    searches = fake.stats()["endpoints"]["imvdb.search_videos"]
    body = client.post(f"/api/videos/{video_id}/refresh-metadata").get_json()
    video = video_row(app, video_id)
    assert body["success"] is True
    assert fake.stats()["endpoints"]["imvdb.search_videos"] == searches
    assert (video.duration, video.youtube_id) == (200, "keepme12345")


def test_refresh_metadata_of_a_seeded_video_replaces_an_imvdb_id_imvdb_does_not_know(app: Flask) -> None:
    before = video_row(app, 1)
    body = app.test_client().post("/api/videos/1/refresh-metadata").get_json()
    after = video_row(app, 1)
    assert before.imvdb_id == "900001"
    assert body["sources_used"] == ["imvdb", "lastfm"]
    assert after.imvdb_id == str(catalog.imvdb_video_id(artist_name(before.artist_id), before.title))


def test_refresh_metadata_unknown_video_is_404(app: Flask) -> None:
    response = app.test_client().post("/api/videos/999999/refresh-metadata")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Video not found"}


def test_refresh_metadata_with_imvdb_down_still_applies_lastfm(app: Flask, fake: RunningFake) -> None:
    fake.configure(imvdb={"error_rate": 1.0})
    artist_id = add_artist(app, "Lonely Artist")
    video_id = add_video(app, artist_id, "Lonely Song")
    body = app.test_client().post(f"/api/videos/{video_id}/refresh-metadata").get_json()
    assert body["errors"] == ["imvdb: IMVDb API error: HTTP 500"]
    assert body["sources_used"] == ["lastfm"]
    assert video_row(app, video_id).duration is not None
    assert video_row(app, video_id).imvdb_id is None


def test_refresh_metadata_that_finds_nothing_says_so_and_writes_nothing(app: Flask) -> None:
    artist_id = add_artist(app, "Nomatch Orchestra")
    video_id = add_video(app, artist_id, "Silence")
    body = app.test_client().post(f"/api/videos/{video_id}/refresh-metadata").get_json()
    assert body["success"] is False
    assert body["message"] == "No metadata found for this video"
    assert video_row(app, video_id).video_metadata is None


def test_refresh_metadata_does_not_steal_an_imvdb_id_of_another_video(app: Flask) -> None:
    artist_id = add_artist(app, "Dup Artist")
    taken = str(catalog.imvdb_video_id("Dup Artist", "Dup Song"))
    add_video(app, 1, "Other", imvdb_id=taken)
    video_id = add_video(app, artist_id, "Dup Song")
    response = app.test_client().post(f"/api/videos/{video_id}/refresh-metadata")
    assert response.status_code == 200
    assert response.get_json()["errors"][0].startswith(f"imvdb: id {taken} already belongs to video")
    assert video_row(app, video_id).imvdb_id is None
