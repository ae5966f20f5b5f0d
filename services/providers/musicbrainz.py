"""MusicBrainz web service: artist search (`fmt=json`), with its required User-Agent.

The 1 request/s limit lives in the channel's rate limiter (spaced from the previous answer,
see `_policy.RateLimiter`), shared by every request of the process.
"""

from __future__ import annotations

from typing import Any

from services.providers._common import json_of
from services.providers._match import best_match
from services.providers._outbound import ProviderChannel
from services.providers.errors import ProviderError
from services.providers.models import MusicBrainzArtist, MusicBrainzSearch

NAME = "musicbrainz"
LABEL = "MusicBrainz"
USER_AGENT = "MVidarr/0.9.7 (https://github.com/prefect421/mvidarr)"
MATCH_THRESHOLD = 0.8


class MusicBrainzClient:
    def __init__(self, channel: ProviderChannel, *, api_url: str) -> None:
        self.channel = channel
        self.api_url = api_url.rstrip("/")

    async def _get(self, path: str, params: dict[str, Any], *, endpoint: str) -> Any:
        response = await self.channel.request(
            "GET",
            f"{self.api_url}/{path}",
            endpoint=endpoint,
            params={**params, "fmt": "json"},
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        if response.status_code == 404:
            return None
        if response.status_code == 503:
            raise ProviderError(NAME, "MusicBrainz rate limit exceeded (HTTP 503)", 503)
        if response.status_code != 200:
            raise ProviderError(
                NAME, f"MusicBrainz API error: HTTP {response.status_code}", response.status_code
            )
        return json_of(NAME, LABEL, response)

    async def search_artist(self, name: str, limit: int = 10) -> list[MusicBrainzArtist]:
        body = await self._get(
            "artist", {"query": f'artist:"{name}"', "limit": limit, "offset": 0}, endpoint="artist_search"
        )
        return MusicBrainzSearch.parse(body or {}).artists

    async def find_artist(self, name: str) -> MusicBrainzArtist | None:
        return best_match(name, await self.search_artist(name), lambda a: a.name, MATCH_THRESHOLD)
