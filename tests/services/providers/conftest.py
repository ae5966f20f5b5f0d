from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.providers import ProviderHub, ProviderKeys
from services.settings import Settings

API = "https://providers.test"
KEYS = ProviderKeys(
    spotify_client_id="client-id",
    spotify_client_secret="spotify-SECRET-value",
    lastfm_api_key="lastfm-SECRET-key",
    imvdb_api_key="imvdb-SECRET-key",
)


def provider_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": "sqlite:///:memory:",
        "spotify_api_url": f"{API}/spotify/v1",
        "spotify_accounts_url": f"{API}/spotify/accounts",
        "musicbrainz_api_url": f"{API}/mb/ws/2",
        "lastfm_api_url": f"{API}/lastfm/2.0/",
        "imvdb_api_url": f"{API}/imvdb/api/v1",
        "musicbrainz_min_interval": 0,
        "imvdb_min_interval": 0,
        "lastfm_min_interval": 0,
        "provider_max_attempts": 3,
        "provider_breaker_threshold": 3,
        "provider_transport": "httpx",  # respx intercepts httpx's own transport
    }
    values.update(overrides)
    return Settings(**values)


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def hub(sleeps: Sleeps) -> AsyncIterator[ProviderHub]:
    hub = ProviderHub.create(provider_settings())
    for channel in hub.channels.values():
        channel._sleep = sleeps  # backoff waits are recorded, not slept
    try:
        yield hub
    finally:
        await hub.aclose()


def token_response() -> httpx.Response:
    return httpx.Response(200, json={"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600})
