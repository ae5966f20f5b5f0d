from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes import _catalog as catalog
from tests.fakes import providers
from tests.fakes.support import RunningFake, running_fake
from tests.support.servers import free_port, python_module, subprocess_server

UA = {"User-Agent": "MVidarr/0.9.7 (https://github.com/prefect421/mvidarr)"}
IMVDB = {"Authorization": f"Bearer {providers.IMVDB_API_KEY}"}


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[RunningFake]:
    with running_fake() as running:
        yield running


@pytest.fixture
def fake(shared_fake: RunningFake) -> RunningFake:
    """One server per module, back to its defaults (and a 0.2 s MusicBrainz interval) per test."""
    state = shared_fake.state
    state.behaviour = {name: providers.ProviderBehaviour() for name in providers.PROVIDERS}
    state.musicbrainz_min_interval = 0.2
    state.token_ttl = providers.DEFAULT_TOKEN_TTL
    state.reset()
    return shared_fake


@pytest.fixture
def http(fake: RunningFake) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.url) as client:
        yield client


def spotify_token(http: httpx.Client) -> str:
    response = http.post(
        "/spotify/accounts/api/token",
        data={"grant_type": "client_credentials"},
        auth=(providers.SPOTIFY_CLIENT_ID, providers.SPOTIFY_CLIENT_SECRET),
    )
    assert response.status_code == 200
    return str(response.json()["access_token"])


# ---------------------------------------------------------------- Spotify


def test_spotify_token_is_issued_for_client_credentials_with_basic_auth(http: httpx.Client) -> None:
    response = http.post(
        "/spotify/accounts/api/token",
        data={"grant_type": "client_credentials"},
        auth=(providers.SPOTIFY_CLIENT_ID, providers.SPOTIFY_CLIENT_SECRET),
    )
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]


def test_spotify_token_accepts_credentials_in_the_body(http: httpx.Client) -> None:
    response = http.post(
        "/spotify/accounts/api/token",
        data={
            "grant_type": "client_credentials",
            "client_id": providers.SPOTIFY_CLIENT_ID,
            "client_secret": providers.SPOTIFY_CLIENT_SECRET,
        },
    )
    assert response.status_code == 200


def test_spotify_token_refuses_wrong_client_secret(http: httpx.Client) -> None:
    response = http.post(
        "/spotify/accounts/api/token",
        data={"grant_type": "client_credentials"},
        auth=(providers.SPOTIFY_CLIENT_ID, "wrong"),
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client", "error_description": "Invalid client"}


@pytest.mark.parametrize(
    ("form", "description"),
    [
        ({}, "grant_type parameter is missing"),
        ({"grant_type": "password"}, "grant_type password is not supported"),
    ],
)
def test_spotify_token_refuses_missing_or_unsupported_grant(
    http: httpx.Client, form: dict[str, str], description: str
) -> None:
    response = http.post(
        "/spotify/accounts/api/token",
        data=form,
        auth=(providers.SPOTIFY_CLIENT_ID, providers.SPOTIFY_CLIENT_SECRET),
    )
    assert response.status_code == 400
    assert response.json() == {"error": "unsupported_grant_type", "error_description": description}


def test_spotify_search_returns_the_named_artist_first_with_stable_ids(http: httpx.Client) -> None:
    token = spotify_token(http)
    response = http.get(
        "/spotify/v1/search",
        params={"q": 'artist:"The Bright Harbor"', "type": "artist"},
        headers={"Authorization": f"Bearer {token}"},
    )
    items = response.json()["artists"]["items"]
    assert response.status_code == 200
    assert items[0]["name"] == "The Bright Harbor"
    assert items[0]["id"] == catalog.spotify_id("The Bright Harbor")
    assert items[0]["genres"] == catalog.genres_for("The Bright Harbor", 3)
    assert response.json()["artists"]["total"] == 3


def test_spotify_search_for_an_unknown_name_is_empty(http: httpx.Client) -> None:
    token = spotify_token(http)
    response = http.get(
        "/spotify/v1/search",
        params={"q": "Nomatch Band", "type": "artist"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.json()["artists"]["items"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"type": "artist"}, "No search query"),
        ({"q": "Radiohead"}, "Missing parameter type"),
        ({"q": "Radiohead", "type": "track"}, "Bad search type field"),
        ({"q": "Radiohead", "type": "artist", "limit": "x"}, "Invalid limit"),
        ({"q": "Radiohead", "type": "artist", "limit": "99"}, "Invalid limit"),
    ],
)
def test_spotify_search_rejects_bad_parameters(
    http: httpx.Client, params: dict[str, str], message: str
) -> None:
    token = spotify_token(http)
    response = http.get("/spotify/v1/search", params=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json() == {"error": {"status": 400, "message": message}}


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, "No token provided"), ({"Authorization": "Bearer nope"}, "Invalid access token")],
)
def test_spotify_api_needs_a_valid_bearer_token(
    http: httpx.Client, headers: dict[str, str], message: str
) -> None:
    response = http.get("/spotify/v1/search", params={"q": "Radiohead", "type": "artist"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == message


def test_spotify_token_expires_after_its_lifetime() -> None:
    with running_fake(token_ttl=0) as fake, httpx.Client(base_url=fake.url) as http:
        token = spotify_token(http)
        time.sleep(0.01)
        response = http.get(
            "/spotify/v1/search",
            params={"q": "Radiohead", "type": "artist"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "The access token expired"


def test_spotify_artist_lookup_answers_artists_seen_in_a_search(http: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {spotify_token(http)}"}
    http.get("/spotify/v1/search", params={"q": "Radiohead", "type": "artist"}, headers=auth)
    artist_id = catalog.spotify_id("Radiohead")
    found = http.get(f"/spotify/v1/artists/{artist_id}", headers=auth)
    unknown = http.get(f"/spotify/v1/artists/{catalog.spotify_id('Someone Else')}", headers=auth)
    malformed = http.get("/spotify/v1/artists/short", headers=auth)
    assert found.status_code == 200
    assert found.json()["name"] == "Radiohead"
    assert found.json()["uri"] == f"spotify:artist:{artist_id}"
    assert unknown.status_code == 404
    assert malformed.status_code == 400
    assert malformed.json() == {"error": {"status": 400, "message": "invalid id"}}


# ------------------------------------------------------------ MusicBrainz


def test_musicbrainz_search_answers_json_with_a_stable_mbid(http: httpx.Client) -> None:
    response = http.get(
        "/musicbrainz/ws/2/artist", params={"query": 'artist:"Radiohead"', "fmt": "json"}, headers=UA
    )
    artists = response.json()["artists"]
    assert response.status_code == 200
    assert artists[0]["name"] == "Radiohead"
    assert artists[0]["score"] == 100
    assert artists[0]["id"] == catalog.musicbrainz_id("Radiohead")
    assert response.json()["count"] == 2


def test_musicbrainz_blocks_requests_without_a_user_agent(http: httpx.Client) -> None:
    response = http.get(
        "/musicbrainz/ws/2/artist", params={"query": "Radiohead", "fmt": "json"}, headers={"User-Agent": ""}
    )
    assert response.status_code == 403


def test_musicbrainz_answers_503_and_records_a_violation_when_a_client_is_too_fast(
    fake: RunningFake, http: httpx.Client
) -> None:
    first = http.get("/musicbrainz/ws/2/artist", params={"query": "A", "fmt": "json"}, headers=UA)
    second = http.get("/musicbrainz/ws/2/artist", params={"query": "B", "fmt": "json"}, headers=UA)
    stats = http.get("/_fake/stats").json()["musicbrainz"]
    assert first.status_code == 200
    assert second.status_code == 503
    assert "rate limit" in second.json()["error"]
    assert stats["violations"] == 1
    assert stats["violation_log"][0]["client"] == "127.0.0.1"


def test_musicbrainz_accepts_requests_spaced_by_the_minimum_interval(
    fake: RunningFake, http: httpx.Client
) -> None:
    statuses = []
    for name in ("A", "B", "C"):
        statuses.append(
            http.get(
                "/musicbrainz/ws/2/artist", params={"query": name, "fmt": "json"}, headers=UA
            ).status_code
        )
        time.sleep(0.2)
    assert statuses == [200, 200, 200]
    assert fake.stats()["musicbrainz"]["violations"] == 0


def test_musicbrainz_search_validates_parameters(fake: RunningFake, http: httpx.Client) -> None:
    fake.configure(musicbrainz={"min_interval": 0})
    missing = http.get("/musicbrainz/ws/2/artist", params={"fmt": "json"}, headers=UA)
    bad_limit = http.get("/musicbrainz/ws/2/artist", params={"query": "A", "limit": "x"}, headers=UA)
    xml = http.get("/musicbrainz/ws/2/artist", params={"query": "A", "fmt": "xml"}, headers=UA)
    assert missing.status_code == 400
    assert bad_limit.status_code == 400
    assert xml.headers["content-type"].startswith("application/xml")


def test_musicbrainz_artist_lookup_includes_genres(fake: RunningFake, http: httpx.Client) -> None:
    fake.configure(musicbrainz={"min_interval": 0})
    http.get("/musicbrainz/ws/2/artist", params={"query": "Radiohead", "fmt": "json"}, headers=UA)
    mbid = catalog.musicbrainz_id("Radiohead")
    found = http.get(
        f"/musicbrainz/ws/2/artist/{mbid}", params={"inc": "genres+tags", "fmt": "json"}, headers=UA
    )
    unknown = http.get("/musicbrainz/ws/2/artist/00000000-0000-4000-8000-000000000000", headers=UA)
    assert found.status_code == 200
    assert [g["name"] for g in found.json()["genres"]] == catalog.genres_for("Radiohead", 2)
    assert unknown.status_code == 404


# ---------------------------------------------------------------- Last.fm


def lastfm(http: httpx.Client, **params: str) -> httpx.Response:
    return http.get("/lastfm/2.0/", params={"api_key": providers.LASTFM_API_KEY, "format": "json", **params})


def test_lastfm_artist_getinfo_answers_the_artist(http: httpx.Client) -> None:
    response = lastfm(http, method="artist.getinfo", artist="Radiohead")
    artist = response.json()["artist"]
    assert response.status_code == 200
    assert artist["name"] == "Radiohead"
    assert [t["name"] for t in artist["tags"]["tag"]] == catalog.genres_for("Radiohead", 3)


def test_lastfm_track_getinfo_answers_duration_in_milliseconds(http: httpx.Client) -> None:
    response = lastfm(http, method="track.getInfo", artist="Radiohead", track="Creep")
    track = response.json()["track"]
    assert response.status_code == 200
    assert track["name"] == "Creep"
    assert int(track["duration"]) % 1000 == 0


def test_lastfm_answers_error_10_for_a_bad_api_key(http: httpx.Client) -> None:
    response = http.get(
        "/lastfm/2.0/", params={"method": "artist.getinfo", "artist": "A", "api_key": "bad", "format": "json"}
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": 10,
        "message": "Invalid API key - You must be granted a valid key by last.fm",
    }


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"method": "artist.getinfo", "artist": "Nomatch"}, 404, 6),
        ({"method": "artist.getinfo"}, 400, 6),
        ({"method": "track.getinfo", "artist": "Nomatch", "track": "X"}, 404, 6),
        ({"method": "track.getinfo", "artist": "A"}, 400, 6),
        ({"method": "user.getinfo"}, 400, 3),
        ({}, 400, 3),
    ],
)
def test_lastfm_answers_its_error_json(
    http: httpx.Client, params: dict[str, str], status: int, code: int
) -> None:
    response = lastfm(http, **params)
    assert response.status_code == status
    assert response.json()["error"] == code


# ------------------------------------------------------------------ IMVDb


def test_imvdb_entity_search_answers_the_artist(http: httpx.Client) -> None:
    response = http.get("/imvdb/api/v1/search/entities", params={"q": "Radiohead"}, headers=IMVDB)
    body = response.json()
    assert response.status_code == 200
    assert body["results"][0]["id"] == catalog.imvdb_artist_id("Radiohead")
    assert body["total_results"] == 1


def test_imvdb_accepts_the_app_key_header_too(http: httpx.Client) -> None:
    response = http.get(
        "/imvdb/api/v1/search/entities",
        params={"q": "Radiohead"},
        headers={"IMVDB-APP-KEY": providers.IMVDB_API_KEY},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("headers", "error"), [({}, "Missing API key"), ({"Authorization": "Bearer wrong"}, "Invalid API key")]
)
def test_imvdb_requires_its_api_key(http: httpx.Client, headers: dict[str, str], error: str) -> None:
    response = http.get("/imvdb/api/v1/search/videos", params={"q": "A - B"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == error


def test_imvdb_video_search_then_lookup_gives_details(http: httpx.Client) -> None:
    search = http.get(
        "/imvdb/api/v1/search/videos", params={"q": "The Bright Harbor - Neon Nights"}, headers=IMVDB
    )
    hit = search.json()["results"][0]
    video = http.get(f"/imvdb/api/v1/video/{hit['id']}", params={"include": "credits,sources"}, headers=IMVDB)
    assert hit["song_title"] == "Neon Nights"
    assert hit["artists"][0]["name"] == "The Bright Harbor"
    assert hit["id"] == catalog.imvdb_video_id("The Bright Harbor", "Neon Nights")
    assert video.status_code == 200
    assert video.json()["sources"][0]["source"] == "youtube"
    assert video.json()["directors"]


def test_imvdb_video_search_splits_on_the_first_word_without_a_dash(http: httpx.Client) -> None:
    hit = http.get("/imvdb/api/v1/search/videos", params={"q": "Radiohead Creep"}, headers=IMVDB).json()[
        "results"
    ][0]
    assert (hit["artists"][0]["name"], hit["song_title"]) == ("Radiohead", "Creep")


def test_imvdb_search_edge_cases(http: httpx.Client) -> None:
    empty = http.get("/imvdb/api/v1/search/videos", params={"q": "Nomatch - X"}, headers=IMVDB)
    no_query = http.get("/imvdb/api/v1/search/entities", headers=IMVDB)
    no_query_videos = http.get("/imvdb/api/v1/search/videos", headers=IMVDB)
    bad_page = http.get("/imvdb/api/v1/search/entities", params={"q": "A", "page": "x"}, headers=IMVDB)
    unknown = http.get("/imvdb/api/v1/video/123", headers=IMVDB)
    not_numeric = http.get("/imvdb/api/v1/video/abc", headers=IMVDB)
    assert empty.json()["results"] == []
    assert (no_query.status_code, no_query_videos.status_code, bad_page.status_code) == (400, 400, 400)
    assert (unknown.status_code, not_numeric.status_code) == (404, 404)


# ----------------------------------------------------- behaviour and stats


def test_answers_are_the_same_from_two_separate_servers() -> None:
    bodies = []
    for _ in range(2):
        with running_fake() as fake, httpx.Client(base_url=fake.url) as http:
            bodies.append(lastfm(http, method="artist.getinfo", artist="The Bright Harbor").json())
    assert bodies[0] == bodies[1]


def test_calls_are_counted_per_provider_and_endpoint(fake: RunningFake, http: httpx.Client) -> None:
    lastfm(http, method="artist.getinfo", artist="A")
    lastfm(http, method="artist.getinfo", artist="B")
    http.get("/imvdb/api/v1/search/entities", params={"q": "A"}, headers=IMVDB)
    stats = http.get("/_fake/stats").json()
    assert stats["calls"] == {"spotify": 0, "musicbrainz": 0, "lastfm": 2, "imvdb": 1}
    assert stats["endpoints"] == {"lastfm.api": 2, "imvdb.search_entities": 1}


def test_reset_clears_counters_and_violations(fake: RunningFake, http: httpx.Client) -> None:
    http.get("/musicbrainz/ws/2/artist", params={"query": "A"}, headers=UA)
    http.get("/musicbrainz/ws/2/artist", params={"query": "A"}, headers=UA)
    after = http.post("/_fake/reset").json()
    assert after["calls"]["musicbrainz"] == 0
    assert after["musicbrainz"]["violations"] == 0


def test_error_rate_one_fails_every_call_of_that_provider_only(fake: RunningFake, http: httpx.Client) -> None:
    fake.configure(lastfm={"error_rate": 1.0})
    failed = lastfm(http, method="artist.getinfo", artist="A")
    other = http.get("/imvdb/api/v1/search/entities", params={"q": "A"}, headers=IMVDB)
    assert failed.status_code == 500
    assert failed.json()["error"] == 16
    assert other.status_code == 200
    assert fake.stats()["errors_injected"]["lastfm"] == 1


@pytest.mark.parametrize("provider", providers.PROVIDERS)
def test_injected_errors_can_be_429_with_retry_after(
    fake: RunningFake, http: httpx.Client, provider: str
) -> None:
    fake.configure(**{provider: {"error_rate": 1.0, "error_status": 429}})
    path = {
        "spotify": "/spotify/v1/search",
        "musicbrainz": "/musicbrainz/ws/2/artist",
        "lastfm": "/lastfm/2.0/",
        "imvdb": "/imvdb/api/v1/search/entities",
    }[provider]
    response = http.get(path, headers=UA)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"


def test_latency_is_configurable_per_provider(fake: RunningFake, http: httpx.Client) -> None:
    fake.configure(imvdb={"latency": 0.05})
    config = http.get("/_fake/config").json()
    assert config["imvdb"]["latency"] == 0.05
    assert config["lastfm"]["latency"] == 0.0
    assert http.get("/imvdb/api/v1/search/entities", params={"q": "A"}, headers=IMVDB).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"nosuch": {"latency": 1}},
        {"lastfm": {"latency": -1}},
        {"lastfm": {"error_rate": 2}},
        {"lastfm": {"error_status": 200}},
        {"lastfm": {"min_interval": 1}},
        {"spotify": "fast"},
        ["spotify"],
    ],
)
def test_config_rejects_invalid_settings(http: httpx.Client, body: object) -> None:
    response = http.post("/_fake/config", json=body)
    assert response.status_code == 400
    assert "error" in response.json()


def test_config_sets_musicbrainz_interval_and_token_ttl(http: httpx.Client) -> None:
    config = http.post(
        "/_fake/config", json={"musicbrainz": {"min_interval": 0.5}, "spotify": {"token_ttl": 60}}
    ).json()
    assert config["musicbrainz"]["min_interval"] == 0.5
    assert config["spotify"]["token_ttl"] == 60


def test_create_app_takes_per_provider_latency_and_error_rate() -> None:
    app = providers.create_app(latency={"spotify": 0.1}, error_rate={"imvdb": 0.5})
    config = app.state.fake.config()
    assert config["spotify"]["latency"] == 0.1
    assert config["musicbrainz"]["latency"] == 0.0
    assert config["imvdb"]["error_rate"] == 0.5


def test_runs_as_a_module_with_cli_flags() -> None:
    port = free_port()
    args = python_module(
        "tests.fakes.providers", "--port", str(port), "--lastfm-error-rate", "1", "--latency", "0"
    )
    with subprocess_server(args, port=port) as (server, _proc):
        failed = httpx.get(
            f"{server.url}/lastfm/2.0/",
            params={"method": "artist.getinfo", "artist": "A", "api_key": providers.LASTFM_API_KEY},
        )
        config = httpx.get(f"{server.url}/_fake/config").json()
    assert failed.status_code == 500
    assert config["lastfm"]["error_rate"] == 1.0
    assert config["spotify"]["error_rate"] == 0.0
