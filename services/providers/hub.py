"""The process's provider hub: one HTTP client (pool limits, timeouts, keep-alive,
User-Agent) and one channel per provider (rate limiter, breaker, retry budget), created in
the lifespan and closed on shutdown. Clients are cheap per-request views bound to the keys in
force for that request.

The HTTP client is `DirectSender` (requests straight on aiohttp, `provider_transport =
"aiohttp"`, the default) or an `httpx.AsyncClient` (`"httpx"`, or whenever a transport is
given: respx and test transports plug in there)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from services import tracing
from services.providers._common import ProviderKeys
from services.providers._direct import DirectSender
from services.providers._outbound import ChannelConfig, ProviderChannel, Send
from services.providers.imvdb import ImvdbClient
from services.providers.lastfm import LastfmClient
from services.providers.musicbrainz import MusicBrainzClient
from services.providers.spotify import SpotifyClient, SpotifyTokenCache
from services.settings import Settings

USER_AGENT = "figway-services/0.1 (+https://github.com/prefect421/mvidarr)"
PROVIDERS = ("spotify", "musicbrainz", "lastfm", "imvdb")


class _NoCookieJar(httpx.Cookies):
    """Provider APIs authenticate by key or token, never by cookie (legacy's one-off `requests`
    calls kept none either). Storing their Set-Cookie would only carry one answer's cookies
    into the next call, and parsing every response into the jar (through urllib's request and
    response shims) cost about a tenth of the event loop's time during enrichment."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class ProviderHTTPClient(httpx.AsyncClient):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cookies = _NoCookieJar()  # httpx has no public switch for "no cookie jar"


def provider_timeout(settings: Settings) -> httpx.Timeout:
    return httpx.Timeout(
        settings.provider_timeout, connect=settings.provider_connect_timeout, pool=settings.provider_timeout
    )


def create_http_client(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    return ProviderHTTPClient(
        transport=transport,
        limits=httpx.Limits(
            max_connections=settings.provider_max_connections,
            max_keepalive_connections=settings.provider_max_keepalive,
            keepalive_expiry=30.0,
        ),
        timeout=provider_timeout(settings),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def channel_configs(settings: Settings) -> dict[str, ChannelConfig]:
    def config(name: str, label: str, **policy: Any) -> ChannelConfig:
        return ChannelConfig(
            name,
            label,
            max_attempts=settings.provider_max_attempts,
            max_retry_after=settings.provider_max_retry_after,
            breaker_threshold=settings.provider_breaker_threshold,
            breaker_reset=settings.provider_breaker_reset,
            **policy,
        )

    return {
        "spotify": config("spotify", "Spotify"),  # no published rate: reacts to 429 + Retry-After
        "musicbrainz": config(
            "musicbrainz",
            "MusicBrainz",
            min_interval=settings.musicbrainz_min_interval,
            space_from_completion=True,
        ),
        "lastfm": config("lastfm", "Last.fm", min_interval=settings.lastfm_min_interval),
        "imvdb": config("imvdb", "IMVDb", min_interval=settings.imvdb_min_interval),
    }


def create_sender(settings: Settings) -> DirectSender:
    return DirectSender(
        max_connections=settings.provider_max_connections,
        user_agent=USER_AGENT,
        timeout=provider_timeout(settings),
    )


class ProviderHub:
    def __init__(self, settings: Settings, client: httpx.AsyncClient | DirectSender) -> None:
        self.settings = settings
        self.client = client
        send: Send = client.request
        self.channels = {name: ProviderChannel(send, cfg) for name, cfg in channel_configs(settings).items()}
        self.spotify_tokens = SpotifyTokenCache()

    @classmethod
    def create(cls, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> ProviderHub:
        if transport is None and settings.provider_transport == "aiohttp":
            return cls(settings, create_sender(settings))
        return cls(settings, create_http_client(settings, transport))

    async def aclose(self) -> None:
        await self.client.aclose()

    def default_keys(self) -> ProviderKeys:
        s = self.settings
        return ProviderKeys(
            spotify_client_id=s.spotify_client_id,
            spotify_client_secret=s.spotify_client_secret.get_secret_value(),
            lastfm_api_key=s.lastfm_api_key.get_secret_value(),
            imvdb_api_key=s.imvdb_api_key.get_secret_value(),
        )

    def spotify(self, keys: ProviderKeys) -> SpotifyClient:
        return SpotifyClient(
            self.channels["spotify"],
            self.spotify_tokens,
            api_url=self.settings.spotify_api_url,
            accounts_url=self.settings.spotify_accounts_url,
            keys=keys,
        )

    def musicbrainz(self) -> MusicBrainzClient:
        return MusicBrainzClient(self.channels["musicbrainz"], api_url=self.settings.musicbrainz_api_url)

    def lastfm(self, keys: ProviderKeys) -> LastfmClient:
        return LastfmClient(self.channels["lastfm"], api_url=self.settings.lastfm_api_url, keys=keys)

    def imvdb(self, keys: ProviderKeys) -> ImvdbClient:
        return ImvdbClient(self.channels["imvdb"], api_url=self.settings.imvdb_api_url, keys=keys)


@asynccontextmanager
async def provider_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Put the hub on `app.state.providers` for the life of the app (a router lifespan)."""
    hub = ProviderHub.create(app.state.settings, getattr(app.state, "provider_transport", None))
    tracing.instrument_client(hub.client, getattr(app.state, "tracer_provider", None))
    app.state.providers = hub
    try:
        yield
    finally:
        await hub.aclose()
