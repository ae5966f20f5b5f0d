"""The typed provider clients against respx: answers, each error class, token caching."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from services.providers import ProviderError, ProviderHub, ProviderKeys, ProviderNotConfigured
from services.providers.musicbrainz import USER_AGENT
from tests.services.providers.conftest import API, KEYS, token_response

SPOTIFY = f"{API}/spotify/v1"
TOKEN = f"{API}/spotify/accounts/api/token"
MB = f"{API}/mb/ws/2"
LASTFM = f"{API}/lastfm/2.0/"
IMVDB = f"{API}/imvdb/api/v1"

ARTIST = {"id": "A" * 22, "name": "The Cure", "genres": ["post-punk"], "popularity": 70}


def _spotify_search(*names: str) -> dict[str, object]:
    items = [{**ARTIST, "id": f"{i:022d}", "name": n} for i, n in enumerate(names)]
    return {"artists": {"items": items}}


@respx.mock
async def test_spotify_token_is_fetched_once_under_concurrency(hub: ProviderHub) -> None:
    async def slow_token(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)  # every caller arrives while the fetch is in flight
        return token_response()

    token = respx.post(TOKEN).mock(side_effect=slow_token)
    search = respx.get(f"{SPOTIFY}/search").mock(
        return_value=httpx.Response(200, json=_spotify_search("The Cure"))
    )
    client = hub.spotify(KEYS)
    results = await asyncio.gather(*(client.search_artist("The Cure") for _ in range(50)))
    assert token.call_count == 1
    assert search.call_count == 50 and all(r[0].name == "The Cure" for r in results)
    assert search.calls[0].request.headers["authorization"] == "Bearer tok-1"
    basic = token.calls[0].request.headers["authorization"]
    assert basic.startswith("Basic ") and token.calls[0].request.content == b"grant_type=client_credentials"


@respx.mock
async def test_spotify_find_artist_matches_the_name_then_reads_the_full_record(hub: ProviderHub) -> None:
    respx.post(TOKEN).mock(return_value=token_response())
    respx.get(f"{SPOTIFY}/search").mock(
        return_value=httpx.Response(200, json=_spotify_search("Cure Tribute Band", "The Cure"))
    )
    full = respx.get(f"{SPOTIFY}/artists/{1:022d}").mock(
        return_value=httpx.Response(200, json={**ARTIST, "id": f"{1:022d}", "followers": {"total": 5}})
    )
    artist = await hub.spotify(KEYS).find_artist("the cure")
    assert artist is not None and artist.id == f"{1:022d}" and artist.raw()["followers"] == {"total": 5}
    assert full.call_count == 1


@respx.mock
async def test_spotify_401_drops_the_cached_token(hub: ProviderHub) -> None:
    token = respx.post(TOKEN).mock(return_value=token_response())
    respx.get(f"{SPOTIFY}/artists/x").mock(
        side_effect=[
            httpx.Response(401, json={"error": {"status": 401, "message": "expired"}}),
            httpx.Response(200, json=ARTIST),
        ]
    )
    client = hub.spotify(KEYS)
    with pytest.raises(ProviderError, match="Spotify API error 401: expired"):
        await client.get_artist("x")
    assert (await client.get_artist("x")) is not None
    assert token.call_count == 2


@respx.mock
async def test_spotify_bad_credentials_and_missing_credentials(hub: ProviderHub) -> None:
    respx.post(TOKEN).mock(
        return_value=httpx.Response(
            400, json={"error": "invalid_client", "error_description": "Invalid client"}
        )
    )
    with pytest.raises(ProviderError, match="Spotify authentication failed: Invalid client"):
        await hub.spotify(KEYS).search_artist("x")
    with pytest.raises(ProviderNotConfigured):
        await hub.spotify(ProviderKeys()).search_artist("x")


@respx.mock
async def test_spotify_not_found_is_none(hub: ProviderHub) -> None:
    respx.post(TOKEN).mock(return_value=token_response())
    respx.get(f"{SPOTIFY}/artists/gone").mock(return_value=httpx.Response(404, json={}))
    assert await hub.spotify(KEYS).get_artist("gone") is None


@respx.mock
async def test_musicbrainz_sends_its_user_agent_and_fmt_json(hub: ProviderHub) -> None:
    route = respx.get(f"{MB}/artist").mock(
        return_value=httpx.Response(
            200,
            json={"artists": [{"id": "mbid-1", "name": "Björk", "tags": [{"name": "art pop", "count": 3}]}]},
        )
    )
    artist = await hub.musicbrainz().find_artist("Björk")
    assert artist is not None and artist.id == "mbid-1" and [t.name for t in artist.tags] == ["art pop"]
    request = route.calls[0].request
    assert request.headers["user-agent"] == USER_AGENT
    assert request.url.params["fmt"] == "json" and request.url.params["query"] == 'artist:"Björk"'


@respx.mock
async def test_musicbrainz_statuses_become_legacy_messages(hub: ProviderHub) -> None:
    route = respx.get(f"{MB}/artist")
    route.mock(return_value=httpx.Response(404))
    assert await hub.musicbrainz().search_artist("x") == []
    route.mock(return_value=httpx.Response(503))
    with pytest.raises(ProviderError, match=r"MusicBrainz rate limit exceeded \(HTTP 503\)"):
        await hub.musicbrainz().search_artist("x")
    route.mock(return_value=httpx.Response(403))
    with pytest.raises(ProviderError, match="MusicBrainz API error: HTTP 403"):
        await hub.musicbrainz().search_artist("x")
    route.mock(return_value=httpx.Response(200, text="<xml/>"))
    with pytest.raises(ProviderError, match="MusicBrainz answered non-JSON"):
        await hub.musicbrainz().search_artist("x")


@respx.mock
async def test_lastfm_answers_errors_and_not_found(hub: ProviderHub) -> None:
    route = respx.get(LASTFM)
    route.mock(
        return_value=httpx.Response(
            200, json={"artist": {"name": "Cher", "tags": {"tag": [{"name": "pop"}]}}}
        )
    )
    artist = await hub.lastfm(KEYS).get_artist_info("cher")
    assert artist is not None and artist.tag_names() == ["pop"]
    assert route.calls[0].request.url.params["method"] == "artist.getinfo"

    route.mock(return_value=httpx.Response(404, json={"error": 6, "message": "not found"}))
    assert await hub.lastfm(KEYS).get_track_info("a", "b") is None
    route.mock(return_value=httpx.Response(403, json={"error": 10, "message": "Invalid API key"}))
    with pytest.raises(ProviderError, match="Last.fm API error: Invalid API key"):
        await hub.lastfm(KEYS).get_artist_info("x")
    route.mock(return_value=httpx.Response(200, json=["odd"]))
    with pytest.raises(ProviderError, match="Last.fm API error: HTTP 200"):
        await hub.lastfm(KEYS).get_artist_info("x")
    with pytest.raises(ProviderNotConfigured):
        await hub.lastfm(ProviderKeys()).get_artist_info("x")


@respx.mock
async def test_lastfm_track_info(hub: ProviderHub) -> None:
    respx.get(LASTFM).mock(
        return_value=httpx.Response(
            200, json={"track": {"name": "t", "duration": "215000", "toptags": {"tag": [{"name": "rock"}]}}}
        )
    )
    track = await hub.lastfm(KEYS).get_track_info("a", "t")
    assert track is not None and track.duration == "215000" and track.tag_names() == ["rock"]


@respx.mock
async def test_imvdb_search_find_and_get(hub: ProviderHub) -> None:
    respx.get(f"{IMVDB}/search/entities").mock(
        return_value=httpx.Response(200, json={"results": [{"id": 5, "name": "Daft Punk"}]})
    )
    respx.get(f"{IMVDB}/search/videos").mock(
        return_value=httpx.Response(
            200,
            json={
                "results": [{"id": 9, "song_title": "Around the World", "artists": [{"name": "Daft Punk"}]}]
            },
        )
    )
    video = respx.get(f"{IMVDB}/video/9").mock(return_value=httpx.Response(200, json={"id": 9, "year": 1997}))
    client = hub.imvdb(KEYS)
    entity = await client.find_artist("daft punk")
    assert entity is not None and entity.id == 5
    hit = await client.find_video("Daft Punk", "Around The World")
    assert hit is not None and hit.id == 9
    assert await client.find_video("Daft Punk", "Something Else") is None
    full = await client.get_video(9)
    assert full is not None and full.year == 1997 and full.raw() == {"id": 9, "year": 1997}
    assert video.calls[0].request.headers["authorization"] == "Bearer imvdb-SECRET-key"


@respx.mock
async def test_imvdb_statuses_become_legacy_messages(hub: ProviderHub) -> None:
    route = respx.get(f"{IMVDB}/video/1")
    route.mock(return_value=httpx.Response(401))
    with pytest.raises(ProviderError, match="IMVDb API authentication failed - check API key"):
        await hub.imvdb(KEYS).get_video(1)
    route.mock(return_value=httpx.Response(404))
    assert await hub.imvdb(KEYS).get_video(1) is None
    route.mock(return_value=httpx.Response(418))
    with pytest.raises(ProviderError, match="IMVDb API error: HTTP 418"):
        await hub.imvdb(KEYS).get_video(1)
    with pytest.raises(ProviderNotConfigured):
        await hub.imvdb(ProviderKeys()).get_video(1)


@respx.mock
async def test_secrets_never_reach_logs_or_errors(hub: ProviderHub) -> None:
    respx.post(TOKEN).mock(side_effect=httpx.ConnectError("boom"))
    respx.get(LASTFM).mock(side_effect=httpx.ConnectError("refused"))
    respx.get(f"{IMVDB}/search/entities").mock(return_value=httpx.Response(500, text="oops"))
    errors: list[str] = []
    with capture_logs() as logs:
        for call in (
            hub.spotify(KEYS).search_artist("x"),
            hub.lastfm(KEYS).get_artist_info("x"),
            hub.imvdb(KEYS).search_artists("x"),
        ):
            with pytest.raises(ProviderError) as caught:
                await call
            errors.append(str(caught.value))
    assert len([e for e in logs if e["event"] == "provider.request"]) >= 3
    text = repr(logs) + repr(errors) + repr(KEYS)
    for secret in KEYS.secrets():
        assert secret not in text


@respx.mock
async def test_imvdb_connection_test_reports_each_outcome(hub: ProviderHub) -> None:
    route = respx.get(f"{IMVDB}/search/videos")
    route.mock(return_value=httpx.Response(200, json={"results": []}))
    assert (await hub.imvdb(KEYS).test_connection())["status"] == "success"
    route.mock(return_value=httpx.Response(401))
    failed = await hub.imvdb(KEYS).test_connection()
    assert failed["message"] == "IMVDb API authentication failed - check API key"
    missing = await hub.imvdb(ProviderKeys()).test_connection()
    assert missing == {
        "status": "error",
        "message": "IMVDb API key not configured",
        "help_url": "https://imvdb.com/developers/api",
    }
