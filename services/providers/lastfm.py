"""Last.fm (`artist.getinfo`, `track.getinfo`). An error JSON becomes
`Last.fm API error: <message>`; "not found" (error 6) is None. The API key travels in the
query string, which is why nothing here ever logs or reports a URL."""

from __future__ import annotations

from typing import Any

from services.providers._common import ProviderKeys, json_of
from services.providers._outbound import ProviderChannel
from services.providers.errors import ProviderError, ProviderNotConfigured
from services.providers.models import LastfmArtist, LastfmTrack

NAME = "lastfm"
LABEL = "Last.fm"
NOT_FOUND = 6


class LastfmClient:
    def __init__(self, channel: ProviderChannel, *, api_url: str, keys: ProviderKeys) -> None:
        self.channel = channel
        self.api_url = api_url
        self.keys = keys

    def is_configured(self) -> bool:
        return bool(self.keys.lastfm_api_key)

    async def _call(self, method: str, **params: str) -> dict[str, Any] | None:
        if not self.is_configured():
            raise ProviderNotConfigured(NAME, "Last.fm API key not configured")
        response = await self.channel.request(
            "GET",
            self.api_url,
            endpoint=method,
            params={"method": method, "api_key": self.keys.lastfm_api_key, "format": "json", **params},
        )
        body = json_of(NAME, LABEL, response)
        if isinstance(body, dict) and "error" in body:
            if body.get("error") == NOT_FOUND:
                return None
            raise ProviderError(NAME, f"Last.fm API error: {body.get('message')}", response.status_code)
        if response.status_code != 200 or not isinstance(body, dict):
            raise ProviderError(NAME, f"Last.fm API error: HTTP {response.status_code}", response.status_code)
        return body

    async def get_artist_info(self, name: str) -> LastfmArtist | None:
        body = await self._call("artist.getinfo", artist=name, autocorrect="1")
        artist = body.get("artist") if body else None
        return LastfmArtist.parse(artist) if isinstance(artist, dict) else None

    async def get_track_info(self, artist: str, track: str) -> LastfmTrack | None:
        body = await self._call("track.getinfo", artist=artist, track=track, autocorrect="1")
        found = body.get("track") if body else None
        return LastfmTrack.parse(found) if isinstance(found, dict) else None
