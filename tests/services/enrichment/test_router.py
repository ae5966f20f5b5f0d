"""Enrichment end to end: the services app on a real socket against the fake provider server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, insert, text

from legacy_flask.models import Artist
from services.app import create_app
from services.settings import Settings
from tests.contract.harness import prepare_database
from tests.fakes import providers
from tests.fakes.support import RunningFake, running_fake
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread

BULK_ARTISTS = 50


def fake_settings(database_url: str, fake_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": async_url(database_url),
        "spotify_api_url": f"{fake_url}/spotify/v1",
        "spotify_accounts_url": f"{fake_url}/spotify/accounts",
        "musicbrainz_api_url": f"{fake_url}/musicbrainz/ws/2",
        "lastfm_api_url": f"{fake_url}/lastfm/2.0/",
        "imvdb_api_url": f"{fake_url}/imvdb/api/v1",
        "spotify_client_id": providers.SPOTIFY_CLIENT_ID,
        "spotify_client_secret": providers.SPOTIFY_CLIENT_SECRET,
        "lastfm_api_key": providers.LASTFM_API_KEY,
        "imvdb_api_key": providers.IMVDB_API_KEY,
        "musicbrainz_min_interval": 0.1,
        "imvdb_min_interval": 0,
        "lastfm_min_interval": 0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def fake() -> Iterator[RunningFake]:
    with running_fake(musicbrainz_min_interval=0.1) as running:
        yield running


@pytest.fixture
def seeded(sqlite_url: str, fake: RunningFake) -> str:
    fake.state.behaviour = {name: providers.ProviderBehaviour() for name in providers.PROVIDERS}
    fake.state.musicbrainz_min_interval = 0.1
    fake.state.reset()
    prepare_database(sqlite_url)
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        existing = conn.execute(text("SELECT COUNT(*) FROM artists")).scalar_one()
        conn.execute(insert(Artist), [{"name": f"Bulk Artist {i}"} for i in range(BULK_ARTISTS - existing)])
    engine.dispose()
    return sqlite_url


def serve(url: str, fake: RunningFake, **overrides: Any) -> Any:
    return uvicorn_thread(create_app(fake_settings(url, fake.url, **overrides)))


def test_bulk_enrichment_of_50_artists_keeps_musicbrainz_violations_at_zero(
    seeded: str, fake: RunningFake
) -> None:
    with serve(seeded, fake, enrichment_bulk_concurrency=16) as server:
        response = httpx.post(
            f"{server.url}/api/metadata-enrichment/enrich",
            json={"artist_ids": list(range(1, BULK_ARTISTS + 1)), "force_refresh": True},
            timeout=120,
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["done"] for line in lines[:-1]] == list(range(1, BULK_ARTISTS + 1))
    assert lines[-1] == {
        "finished": True,
        "done": BULK_ARTISTS,
        "total": BULK_ARTISTS,
        "succeeded": BULK_ARTISTS,
    }
    assert {line["artist_id"] for line in lines[:-1]} == set(range(1, BULK_ARTISTS + 1))
    stats = fake.stats()
    assert stats["musicbrainz"]["violations"] == 0
    assert stats["calls"]["musicbrainz"] == BULK_ARTISTS
    assert set(stats["musicbrainz"]["user_agents"]) == {
        "MVidarr/0.9.7 (https://github.com/prefect421/mvidarr)"
    }


def test_bulk_enrichment_rejects_bad_input_and_reports_missing_artists(
    seeded: str, fake: RunningFake
) -> None:
    with serve(seeded, fake) as server:
        url = f"{server.url}/api/metadata-enrichment/enrich"
        for body in ({}, {"artist_ids": []}, {"artist_ids": ["1"]}, {"artist_ids": [True]}):
            bad = httpx.post(url, json=body)
            assert bad.status_code == 400 and "artist_ids" in bad.json()["error"]
        assert httpx.post(url, json={"artist_ids": list(range(2000))}).status_code == 400
        lines = [json.loads(x) for x in httpx.post(url, json={"artist_ids": [99999, 1, 1]}).text.splitlines()]
    assert {"artist_id": 99999, "error": "Artist not found", "done": 1, "total": 2} in lines
    assert lines[-1]["finished"] is True and lines[-1]["total"] == 2


def test_slow_provider_degrades_only_its_own_part(seeded: str, fake: RunningFake) -> None:
    fake.configure(lastfm={"latency": 2.0})
    with serve(seeded, fake, provider_timeout=0.3, provider_max_attempts=1) as server:
        body = httpx.post(f"{server.url}/api/metadata-enrichment/enrich/2?force=true", timeout=30).json()
    assert body["sources_used"] == ["spotify", "musicbrainz", "imvdb"]
    assert body["errors"] == ["lastfm: Last.fm request failed: timed out"]
    assert body["providers"]["lastfm"]["status"] == "error" and body["success"] is True


def test_disabled_and_unconfigured_providers_are_skipped(seeded: str, fake: RunningFake) -> None:
    engine = create_engine(seeded)
    with engine.begin() as conn:
        conn.execute(text("UPDATE settings SET value = 'false' WHERE key = 'musicbrainz_enabled'"))
    engine.dispose()
    with serve(seeded, fake, imvdb_api_key="") as server:
        body = httpx.post(f"{server.url}/api/metadata-enrichment/enrich/2", timeout=30).json()
    assert body["providers"]["musicbrainz"] == {"status": "disabled", "elapsed_ms": 0.0}
    assert body["providers"]["imvdb"]["status"] == "not_configured"
    assert body["sources_used"] == ["spotify", "lastfm"] and body["errors"] == []


def test_a_key_in_the_settings_table_wins_over_the_environment(seeded: str, fake: RunningFake) -> None:
    engine = create_engine(seeded)
    with engine.begin() as conn:
        conn.execute(text("UPDATE settings SET value = 'wrong-key' WHERE key = 'lastfm_api_key'"))
    engine.dispose()
    with serve(seeded, fake) as server:
        body = httpx.post(f"{server.url}/api/metadata-enrichment/enrich/2", timeout=30).json()
    assert body["errors"] == [
        "lastfm: Last.fm API error: Invalid API key - You must be granted a valid key by last.fm"
    ]


def test_metrics_expose_per_provider_requests(seeded: str, fake: RunningFake) -> None:
    with serve(seeded, fake) as server:
        httpx.post(f"{server.url}/api/metadata-enrichment/enrich/1?force=true", timeout=30)
        metrics = httpx.get(f"{server.url}/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    for provider in providers.PROVIDERS:
        assert f'figway_provider_requests_total{{provider="{provider}",status="200"}}' in metrics.text
    assert "figway_provider_request_seconds_bucket" in metrics.text
    assert 'figway_provider_breaker_state{provider="musicbrainz"} 0.0' in metrics.text


def test_enrichment_stays_behind_the_legacy_login_guard(seeded: str, fake: RunningFake) -> None:
    engine = create_engine(seeded)
    with engine.begin() as conn:
        conn.execute(text("UPDATE settings SET value = 'true' WHERE key = 'require_authentication'"))
    engine.dispose()
    with serve(seeded, fake) as server:
        response = httpx.post(f"{server.url}/api/metadata-enrichment/enrich/1")
    assert response.status_code == 401 and response.json()["code"] == "AUTH_REQUIRED"
    assert fake.stats()["calls"]["spotify"] == 0
