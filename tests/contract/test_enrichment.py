"""Metadata enrichment: services answer and write what legacy does for the same provider answers.

Both sides talk to one fake provider server. Allowed differences, each with its reason:
- `processing_time` and `providers.<name>.elapsed_ms`: timings of each side's own run.
- `imvdb_metadata.enrichment_date` / `video_metadata.metadata_refreshed_at` in the rows and
  `updated_at`: each side writes its own "now".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.contract.harness import Pair, serve_pair
from tests.fakes import providers
from tests.fakes.support import RunningFake, provider_config, running_fake

FAST = {"MUSICBRAINZ_MIN_INTERVAL": "0", "IMVDB_MIN_INTERVAL": "0", "IMVDB_RETRY_PAUSE": "0.01"}
ARTIST_COLUMNS = "spotify_id, lastfm_name, imvdb_id, genres, imvdb_metadata"
VIDEO_COLUMNS = (
    "imvdb_id, year, duration, genres, directors, youtube_id, youtube_url, thumbnail_url,"
    " imvdb_metadata, video_metadata"
)
WRITTEN_NOW = ("enrichment_date", "metadata_refreshed_at")


@pytest.fixture(scope="module")
def fake() -> Iterator[RunningFake]:
    # Both apps call from 127.0.0.1: the fake's MusicBrainz spacing check would count the two
    # sides as one client, so it is off here (tests/services checks the limiter against it).
    with running_fake(musicbrainz_min_interval=0.0) as running:
        yield running


@pytest.fixture
def enrich_pair(
    database_url: str, twin_url: str, fake: RunningFake, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Pair, str, str]]:
    from tests.contract.harness import prepare_database

    fake.state.behaviour = {name: providers.ProviderBehaviour() for name in providers.PROVIDERS}
    fake.state.reset()
    for key, value in {**provider_config(fake.url), **FAST}.items():
        monkeypatch.setenv(key, str(value))  # legacy's load_config and services' Settings read env
    prepare_database(database_url)
    prepare_database(twin_url)
    with serve_pair(database_url, twin_url) as pair:
        yield pair, database_url, twin_url


def _strip_timings(body: Any) -> Any:
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("processing_time", "elapsed_ms")}
        return {k: _strip_timings(v) for k, v in body.items()}
    return body


def _row(url: str, table: str, columns: str, row_id: int) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(f"SELECT {columns} FROM {table} WHERE id = :id"), {"id": row_id}
            ).mappings()
            data = dict(row.one())
    finally:
        engine.dispose()
    for key, value in data.items():
        if isinstance(value, str) and value[:1] in "[{":
            value = json.loads(value)
        if isinstance(value, dict):
            value = {k: ("<now>" if k in WRITTEN_NOW else v) for k, v in value.items()}
        data[key] = value
    return data


def _check(pair: Pair, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    old = pair.send("legacy", method, path, **kw)
    new = pair.send("services", method, path, **kw)
    assert (old.status, old.content_type) == (new.status, new.content_type), (old.body, new.body)
    assert _strip_timings(old.body) == _strip_timings(new.body)
    return new.status, new.body


def test_artist_enrichment_answers_and_writes_like_legacy(enrich_pair: tuple[Pair, str, str]) -> None:
    pair, legacy_db, services_db = enrich_pair
    status, body = _check(pair, "POST", "/api/metadata-enrichment/enrich/3")
    assert status == 200
    assert body["sources_used"] == ["spotify", "musicbrainz", "lastfm", "imvdb"]
    assert set(body["enriched_fields"]) >= {"spotify_id", "lastfm_name", "imvdb_id", "musicbrainz_id"}
    assert _row(legacy_db, "artists", ARTIST_COLUMNS, 3) == _row(services_db, "artists", ARTIST_COLUMNS, 3)

    # Fresh now: both skip the providers with the same message; force=true refreshes again.
    status, body = _check(pair, "POST", "/api/metadata-enrichment/enrich/3")
    assert body["skipped"] is True and body["sources_used"] == []
    _check(pair, "POST", "/api/metadata-enrichment/enrich/3?force=true")
    _check(pair, "POST", "/api/metadata-enrichment/enrich/3", json={"force_refresh": True})
    assert _row(legacy_db, "artists", ARTIST_COLUMNS, 3) == _row(services_db, "artists", ARTIST_COLUMNS, 3)


def test_missing_artist_and_bad_ids_answer_like_legacy(enrich_pair: tuple[Pair, str, str]) -> None:
    pair, _, _ = enrich_pair
    assert _check(pair, "POST", "/api/metadata-enrichment/enrich/99999") == (
        404,
        {"error": "Artist not found"},
    )
    assert _check(pair, "POST", "/api/metadata-enrichment/enrich/abc")[0] == 404
    assert _check(pair, "GET", "/api/metadata-enrichment/enrich/3")[0] == 405


def test_unknown_artist_and_failing_provider_degrade_like_legacy(
    enrich_pair: tuple[Pair, str, str], fake: RunningFake
) -> None:
    pair, legacy_db, services_db = enrich_pair
    for db in (legacy_db, services_db):
        engine = create_engine(db)
        with engine.begin() as conn:
            conn.execute(text("UPDATE artists SET name = 'Nomatch Band' WHERE id = 5"))
        engine.dispose()
    status, body = _check(pair, "POST", "/api/metadata-enrichment/enrich/5")
    assert status == 200 and body["success"] is False and body["sources_used"] == []

    # A provider that refuses (400: not retried by either side) costs only its own part.
    fake.configure(lastfm={"error_rate": 1.0, "error_status": 400})
    status, body = _check(pair, "POST", "/api/metadata-enrichment/enrich/4")
    assert body["sources_used"] == ["spotify", "musicbrainz", "imvdb"]
    assert body["errors"] == [
        "lastfm: Last.fm API error: There was a temporary error processing your request. Please try again"
    ]
    assert _row(legacy_db, "artists", ARTIST_COLUMNS, 4) == _row(services_db, "artists", ARTIST_COLUMNS, 4)


def test_video_refresh_answers_and_writes_like_legacy(enrich_pair: tuple[Pair, str, str]) -> None:
    pair, legacy_db, services_db = enrich_pair
    for video_id in (1, 2, 7):
        status, body = _check(pair, "POST", f"/api/videos/{video_id}/refresh-metadata")
        assert status == 200 and body["video_id"] == video_id
        assert _row(legacy_db, "videos", VIDEO_COLUMNS, video_id) == _row(
            services_db, "videos", VIDEO_COLUMNS, video_id
        )
    assert _check(pair, "POST", "/api/videos/99999/refresh-metadata") == (404, {"error": "Video not found"})


def test_imvdb_health_check_answers_like_legacy(
    enrich_pair: tuple[Pair, str, str], fake: RunningFake
) -> None:
    pair, _, _ = enrich_pair
    status, body = _check(pair, "GET", "/api/health/imvdb")
    assert status == 200 and body["status"] == "success"
    fake.configure(imvdb={"error_rate": 1.0, "error_status": 500})
    status, body = _check(pair, "GET", "/api/health/imvdb")
    assert status == 503 and body["message"] == "IMVDb API error: HTTP 500"
