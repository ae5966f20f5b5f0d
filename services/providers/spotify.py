"""Spotify Web API (client-credentials flow): artist search and artist by id.

The access token is cached per process until shortly before it expires and fetched by one
caller while every concurrent caller waits for that same fetch (an `asyncio.Lock` with a
re-check), so a burst of requests costs exactly one token request.
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import structlog

from services.providers._common import ProviderKeys, json_of
from services.providers._match import best_match
from services.providers._outbound import ProviderChannel
from services.providers.errors import ProviderError, ProviderNotConfigured
from services.providers.models import SpotifyArtist, SpotifySearch, SpotifyToken

log = structlog.get_logger("services.providers.spotify")

NAME = "spotify"
LABEL = "Spotify"
EXPIRY_MARGIN = 60  # refresh this many seconds before Spotify says the token expires
MATCH_THRESHOLD = 0.8


class SpotifyTokenCache:
    """One cached token per process, keyed on (accounts URL, client id) like legacy's cache."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self._owner: tuple[str, str] | None = None

    def _valid(self, owner: tuple[str, str]) -> str | None:
        if self._token and self._owner == owner and time.monotonic() < self._expires:
            return self._token
        return None

    def invalidate(self) -> None:
        self._token = None
        self._expires = 0.0

    async def get(self, client: SpotifyClient) -> str:
        owner = (client.accounts_url, client.keys.spotify_client_id)
        token = self._valid(owner)
        if token is not None:
            return token
        async with self._lock:
            token = self._valid(owner)  # fetched by whoever held the lock before us
            if token is not None:
                return token
            fetched = await client.fetch_token()
            self._token = fetched.access_token
            self._expires = time.monotonic() + fetched.expires_in - EXPIRY_MARGIN
            self._owner = owner
            log.info("spotify.token_refreshed", expires_in=fetched.expires_in)
            return self._token


class SpotifyClient:
    def __init__(
        self,
        channel: ProviderChannel,
        tokens: SpotifyTokenCache,
        *,
        api_url: str,
        accounts_url: str,
        keys: ProviderKeys,
    ) -> None:
        self.channel = channel
        self.tokens = tokens
        self.api_url = api_url.rstrip("/")
        self.accounts_url = accounts_url.rstrip("/")
        self.keys = keys

    def is_configured(self) -> bool:
        return bool(self.keys.spotify_client_id and self.keys.spotify_client_secret)

    async def fetch_token(self) -> SpotifyToken:
        if not self.is_configured():
            raise ProviderNotConfigured(NAME, "Spotify client id/secret not configured")
        pair = f"{self.keys.spotify_client_id}:{self.keys.spotify_client_secret}"
        basic = base64.b64encode(pair.encode()).decode()
        response = await self.channel.request(
            "POST",
            f"{self.accounts_url}/api/token",
            endpoint="token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        body = json_of(NAME, LABEL, response)
        if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
            detail: Any = response.status_code
            if isinstance(body, dict):
                detail = body.get("error_description") or body.get("error") or detail
            raise ProviderError(NAME, f"Spotify authentication failed: {detail}", response.status_code)
        return SpotifyToken.parse(body)

    async def _get(self, path: str, *, endpoint: str, params: dict[str, Any] | None = None) -> Any:
        if not self.is_configured():
            raise ProviderNotConfigured(NAME, "Spotify client id/secret not configured")
        token = await self.tokens.get(self)
        response = await self.channel.request(
            "GET",
            f"{self.api_url}/{path.lstrip('/')}",
            endpoint=endpoint,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code == 401:
            self.tokens.invalidate()
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            body = json_of(NAME, LABEL, response)
            error = body.get("error") if isinstance(body, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            raise ProviderError(
                NAME, f"Spotify API error {response.status_code}: {message}", response.status_code
            )
        return json_of(NAME, LABEL, response)

    async def search_artist(self, name: str, limit: int = 10) -> list[SpotifyArtist]:
        body = await self._get(
            "search", endpoint="search", params={"q": f'artist:"{name}"', "type": "artist", "limit": limit}
        )
        found = SpotifySearch.parse(body or {})
        return found.artists.items if found.artists else []

    async def get_artist(self, artist_id: str) -> SpotifyArtist | None:
        body = await self._get(f"artists/{artist_id}", endpoint="artist")
        return SpotifyArtist.parse(body) if isinstance(body, dict) else None

    async def find_artist(self, name: str) -> SpotifyArtist | None:
        """The best-matching artist with its full record, or None."""
        match = best_match(name, await self.search_artist(name), lambda a: a.name, MATCH_THRESHOLD)
        if match is None:
            return None
        return await self.get_artist(match.id) or match
