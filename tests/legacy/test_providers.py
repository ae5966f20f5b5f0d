"""The blocking provider clients (legacy_flask/providers) against the fake server, directly."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from legacy_flask.providers import ProviderError, ProviderNotConfigured
from legacy_flask.providers._common import config_value, name_similarity
from legacy_flask.providers.imvdb import imvdb_service
from legacy_flask.providers.lastfm import lastfm_service
from legacy_flask.providers.musicbrainz import musicbrainz_service
from legacy_flask.providers.spotify import spotify_service
from legacy_flask.settings_service import SettingsService
from tests.fakes import _catalog as catalog
from tests.fakes import providers
from tests.fakes.support import RunningFake, provider_config, running_fake
from tests.support.servers import free_port


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[RunningFake]:
    with running_fake() as running:
        yield running


@pytest.fixture
def fake(shared_fake: RunningFake) -> RunningFake:
    state = shared_fake.state
    state.behaviour = {name: providers.ProviderBehaviour() for name in providers.PROVIDERS}
    state.musicbrainz_min_interval = 0.1
    state.token_ttl = providers.DEFAULT_TOKEN_TTL
    state.reset()
    spotify_service.reload_settings()
    return shared_fake


@pytest.fixture
def context(fake: RunningFake) -> Iterator[Any]:
    """An app context whose config points the clients at the fake (no database needed)."""

    def enter(**overrides: Any) -> Any:
        app = Flask("providers-test")
        app.config.update(
            provider_config(
                fake.url, **{"MUSICBRAINZ_MIN_INTERVAL": 0.12, "IMVDB_MIN_INTERVAL": 0, **overrides}
            )
        )
        return app.app_context()

    # No settings table here: keys come from the app config, as when the table has none.
    SettingsService.configure(None)  # type: ignore[arg-type]
    yield enter
    SettingsService.configure(None)  # type: ignore[arg-type]


def test_name_similarity_ignores_case_punctuation_and_a_leading_the() -> None:
    assert name_similarity("The Bright Harbor", "bright harbor!") == 1.0
    assert name_similarity("Simon & Garfunkel", "Simon and Garfunkel") == 1.0
    assert name_similarity("Radiohead", "") == 0.0
    assert 0 < name_similarity("Radiohead", "Radiohead Tribute Band") < 0.8


def test_config_value_reads_the_environment_outside_an_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICBRAINZ_API_URL", "http://example.invalid/ws/2")
    assert config_value("MUSICBRAINZ_API_URL") == "http://example.invalid/ws/2"


# ------------------------------------------------------------------ Spotify


def test_spotify_finds_the_exact_artist_among_near_misses(context: Any, fake: RunningFake) -> None:
    with context():
        artist = spotify_service.find_artist("The Bright Harbor")
    assert artist is not None
    assert artist["id"] == catalog.spotify_id("The Bright Harbor")
    assert fake.stats()["endpoints"] == {"spotify.token": 1, "spotify.search": 1, "spotify.artist": 1}


def test_spotify_token_is_cached_until_it_expires(context: Any, fake: RunningFake) -> None:
    with context():
        spotify_service.search_artist("A")
        spotify_service.search_artist("B")
    assert fake.stats()["spotify"]["tokens_issued"] == 1


def test_spotify_token_is_refreshed_when_it_is_about_to_expire(context: Any, fake: RunningFake) -> None:
    fake.state.token_ttl = 30  # inside the client's 60 s safety margin: never reusable
    with context():
        spotify_service.search_artist("A")
        spotify_service.search_artist("B")
    assert fake.stats()["spotify"]["tokens_issued"] == 2


def test_spotify_new_credentials_get_a_new_token(context: Any, fake: RunningFake) -> None:
    with context():
        spotify_service.search_artist("A")
    fake.state.spotify_client_id = "second-client"
    try:
        with context(SPOTIFY_CLIENT_ID="second-client"):
            spotify_service.search_artist("A")
    finally:
        fake.state.spotify_client_id = providers.SPOTIFY_CLIENT_ID
    assert fake.stats()["spotify"]["tokens_issued"] == 2


def test_spotify_wrong_secret_is_an_authentication_error(context: Any) -> None:
    with (
        context(SPOTIFY_CLIENT_SECRET="wrong"),
        pytest.raises(ProviderError, match="Spotify authentication failed: Invalid client"),
    ):
        spotify_service.search_artist("A")


def test_spotify_without_credentials_is_not_configured(context: Any) -> None:
    with context(SPOTIFY_CLIENT_ID=""), pytest.raises(ProviderNotConfigured):
        spotify_service.search_artist("A")
    with context(SPOTIFY_CLIENT_ID=""):
        assert spotify_service.is_configured() is False


def test_spotify_server_error_is_a_provider_error(context: Any, fake: RunningFake) -> None:
    with context():
        spotify_service.search_artist("warm the token")
        fake.configure(spotify={"error_rate": 1.0})
        with pytest.raises(ProviderError, match="Spotify API error 500: Injected failure"):
            spotify_service.search_artist("A")


def test_spotify_rejected_token_is_dropped(context: Any, fake: RunningFake) -> None:
    with context():
        spotify_service.search_artist("A")
        fake.state.tokens.clear()
        with pytest.raises(ProviderError, match="401"):
            spotify_service.search_artist("A")
        spotify_service.search_artist("A")
    assert fake.stats()["spotify"]["tokens_issued"] == 2


def test_spotify_unreachable_is_a_provider_error(context: Any) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with (
        context(SPOTIFY_ACCOUNTS_URL=dead),
        pytest.raises(ProviderError, match="Spotify token request failed"),
    ):
        spotify_service.search_artist("A")


def test_spotify_unknown_name_finds_nothing(context: Any) -> None:
    with context():
        assert spotify_service.find_artist("Nomatch People") is None


# -------------------------------------------------------------- MusicBrainz


def test_musicbrainz_finds_the_artist_with_its_mbid(context: Any, fake: RunningFake) -> None:
    with context():
        artist = musicbrainz_service.find_artist("Radiohead")
    assert artist is not None
    assert artist["id"] == catalog.musicbrainz_id("Radiohead")
    assert list(fake.stats()["musicbrainz"]["user_agents"]) == [
        "MVidarr/0.9.7 (https://github.com/prefect421/mvidarr)"
    ]


def test_musicbrainz_spacing_holds_across_request_threads(context: Any, fake: RunningFake) -> None:
    errors: list[Exception] = []

    def worker(name: str) -> None:
        with context():
            try:
                musicbrainz_service.search_artist(name)
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"Artist {i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert fake.stats()["calls"]["musicbrainz"] == 4
    assert fake.stats()["musicbrainz"]["violations"] == 0


def test_musicbrainz_rate_limit_503_is_a_provider_error(context: Any, fake: RunningFake) -> None:
    fake.state.musicbrainz_min_interval = 5.0
    with context(MUSICBRAINZ_MIN_INTERVAL=0):
        musicbrainz_service.search_artist("A")
        with pytest.raises(ProviderError, match="rate limit exceeded") as info:
            musicbrainz_service.search_artist("B")
    assert info.value.status == 503


def test_musicbrainz_other_errors_and_network_failures(context: Any, fake: RunningFake) -> None:
    fake.configure(musicbrainz={"error_rate": 1.0})
    with context(), pytest.raises(ProviderError, match="MusicBrainz API error: HTTP 500"):
        musicbrainz_service.search_artist("A")
    dead = f"http://127.0.0.1:{free_port()}"
    with context(MUSICBRAINZ_API_URL=dead), pytest.raises(ProviderError, match="MusicBrainz request failed"):
        musicbrainz_service.search_artist("A")


# ------------------------------------------------------------------ Last.fm


def test_lastfm_artist_and_track_info(context: Any) -> None:
    with context():
        artist = lastfm_service.get_artist_info("Radiohead")
        track = lastfm_service.get_track_info("Radiohead", "Creep")
        missing = lastfm_service.get_artist_info("Nomatch")
    assert artist is not None and artist["name"] == "Radiohead"
    assert track is not None and track["name"] == "Creep"
    assert missing is None


def test_lastfm_error_json_becomes_lastfm_api_error(context: Any) -> None:
    with (
        context(LASTFM_API_KEY="bad"),
        pytest.raises(ProviderError, match="^Last.fm API error: Invalid API key"),
    ):
        lastfm_service.get_artist_info("Radiohead")


def test_lastfm_without_a_key_is_not_configured(context: Any) -> None:
    with context(LASTFM_API_KEY=""), pytest.raises(ProviderNotConfigured):
        lastfm_service.get_artist_info("Radiohead")


def test_lastfm_non_json_answer_is_a_provider_error(context: Any, fake: RunningFake) -> None:
    with context(LASTFM_API_URL=f"{fake.url}/nowhere/"), pytest.raises(ProviderError, match="non-JSON"):
        lastfm_service.get_artist_info("Radiohead")


def test_lastfm_unreachable_is_a_provider_error(context: Any) -> None:
    with (
        context(LASTFM_API_URL=f"http://127.0.0.1:{free_port()}/"),
        pytest.raises(ProviderError, match="request failed"),
    ):
        lastfm_service.get_artist_info("Radiohead")


# -------------------------------------------------------------------- IMVDb


def test_imvdb_finds_artist_and_video(context: Any) -> None:
    with context():
        entity = imvdb_service.find_artist("Radiohead")
        hit = imvdb_service.find_video("Radiohead", "Creep")
        assert hit is not None
        video = imvdb_service.get_video(hit["id"])
        wrong_title = imvdb_service.find_video("Radiohead", "")
    assert entity is not None and entity["id"] == catalog.imvdb_artist_id("Radiohead")
    assert video is not None and video["song_title"] == "Creep"
    assert wrong_title is None


def test_imvdb_429_sleeps_and_retries_once(context: Any, fake: RunningFake) -> None:
    fake.configure(imvdb={"error_rate": 1.0, "error_status": 429})
    with context(IMVDB_RETRY_PAUSE=0.01), pytest.raises(ProviderError, match="HTTP 429"):
        imvdb_service.search_artists("A")
    assert fake.stats()["calls"]["imvdb"] == 2


def test_imvdb_bad_key_is_an_authentication_error(context: Any) -> None:
    with context(IMVDB_API_KEY="wrong"), pytest.raises(ProviderError, match="authentication failed") as info:
        imvdb_service.search_artists("A")
    assert info.value.status == 401


def test_imvdb_unknown_video_is_none(context: Any) -> None:
    with context():
        assert imvdb_service.get_video(1) is None


def test_imvdb_unreachable_is_a_provider_error(context: Any) -> None:
    with (
        context(IMVDB_API_URL=f"http://127.0.0.1:{free_port()}"),
        pytest.raises(ProviderError, match="request failed"),
    ):
        imvdb_service.search_artists("A")
