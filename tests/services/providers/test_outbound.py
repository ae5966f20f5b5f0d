"""The provider channel: retries, Retry-After, budget, breaker, metrics and log events (respx)."""

from __future__ import annotations

import httpx
import pytest
import respx
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from services.providers import ProviderError, ProviderHub, ProviderUnavailable
from services.providers._outbound import retry_after_seconds
from tests.services.providers.conftest import API, Sleeps

URL = f"{API}/mb/ws/2/artist"


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@respx.mock
async def test_server_errors_are_retried_with_backoff_until_success(hub: ProviderHub, sleeps: Sleeps) -> None:
    route = respx.get(URL).mock(
        side_effect=[httpx.Response(500), httpx.Response(502), httpx.Response(200, json={"ok": 1})]
    )
    before = _sample("figway_provider_retries_total", provider="musicbrainz")
    response = await hub.channels["musicbrainz"].request("GET", URL, endpoint="artist_search")
    assert response.status_code == 200 and route.call_count == 3
    assert len(sleeps) == 2 and all(0 < s <= 5 for s in sleeps)
    assert _sample("figway_provider_retries_total", provider="musicbrainz") == before + 2


@respx.mock
async def test_retry_after_is_honoured_on_429(hub: ProviderHub, sleeps: Sleeps) -> None:
    respx.get(URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json={})]
    )
    response = await hub.channels["musicbrainz"].request("GET", URL, endpoint="x")
    assert response.status_code == 200 and sleeps == [3.0]


@respx.mock
async def test_retry_after_longer_than_allowed_answers_at_once(hub: ProviderHub, sleeps: Sleeps) -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(503, headers={"Retry-After": "120"}))
    response = await hub.channels["musicbrainz"].request("GET", URL, endpoint="x")
    assert response.status_code == 503 and route.call_count == 1 and sleeps == []


@respx.mock
async def test_client_errors_and_posts_are_not_retried(hub: ProviderHub) -> None:
    get = respx.get(URL).mock(return_value=httpx.Response(400))
    post = respx.post(URL).mock(return_value=httpx.Response(503))
    assert (await hub.channels["spotify"].request("GET", URL, endpoint="x")).status_code == 400
    assert (await hub.channels["spotify"].request("POST", URL, endpoint="x")).status_code == 503
    assert get.call_count == 1 and post.call_count == 1


@respx.mock
async def test_connect_errors_are_retried_then_reported_without_the_url(hub: ProviderHub) -> None:
    route = respx.get(URL).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(ProviderError) as caught:
        await hub.channels["lastfm"].request("GET", URL, endpoint="x", params={"api_key": "k"})
    assert route.call_count == 3
    assert str(caught.value) == "Last.fm request failed: ConnectError"


@respx.mock
async def test_timeouts_are_reported_as_timed_out(hub: ProviderHub) -> None:
    respx.get(URL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderError, match="IMVDb request failed: timed out"):
        await hub.channels["imvdb"].request("GET", URL, endpoint="x")


@respx.mock
async def test_retry_budget_stops_retries_of_a_failing_provider(hub: ProviderHub) -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(500))
    channel = hub.channels["spotify"]
    channel.breaker.threshold = 1000  # isolate the budget from the breaker
    for _ in range(6):
        await channel.request("GET", URL, endpoint="x")
    # 6 first attempts; retries limited by the reserve (5) plus 0.2 per request, not 2 per call.
    assert route.call_count < 6 * 3
    assert route.call_count <= 6 + 5 + 2


@respx.mock
async def test_breaker_opens_after_repeated_failures_and_fails_fast(hub: ProviderHub) -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(500))
    channel = hub.channels["imvdb"]
    for _ in range(3):
        await channel.request("GET", URL, endpoint="x")
    sent = route.call_count
    with capture_logs() as logs, pytest.raises(ProviderUnavailable, match="IMVDb is unavailable"):
        await channel.request("GET", URL, endpoint="x")
    assert route.call_count == sent  # nothing sent while open
    assert any(e["event"] == "provider.fast_fail" for e in logs)
    assert _sample("figway_provider_breaker_state", provider="imvdb") == 2

    channel.breaker._opened_at -= channel.breaker.reset_timeout  # time passes: half-open
    route.mock(return_value=httpx.Response(200, json={}))
    assert (await channel.request("GET", URL, endpoint="x")).status_code == 200
    assert _sample("figway_provider_breaker_state", provider="imvdb") == 0


@respx.mock
async def test_every_attempt_is_one_log_event_without_query_or_headers(hub: ProviderHub) -> None:
    respx.get(URL).mock(side_effect=[httpx.Response(500), httpx.Response(200, json={})])
    with capture_logs() as logs:
        await hub.channels["lastfm"].request(
            "GET", URL, endpoint="artist.getinfo", params={"api_key": "lastfm-SECRET-key"}
        )
    events = [e for e in logs if e["event"] == "provider.request"]
    assert [(e["status"], e["attempt"]) for e in events] == [("500", 1), ("200", 2)]
    assert all(e["provider"] == "lastfm" and e["endpoint"] == "artist.getinfo" for e in events)
    assert "SECRET" not in repr(logs)


def test_retry_after_parses_seconds_and_http_dates() -> None:
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    assert (
        retry_after_seconds(httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
        == 0
    )
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx.Response(429)) is None
