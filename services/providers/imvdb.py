"""IMVDb: artist (entity) search, video search and video by id, with a Bearer key and
MVidarr's User-Agent. Spacing and 429 handling live in the channel (rate limiter, retries
honouring Retry-After) instead of legacy's sleeps."""

from __future__ import annotations

from typing import Any

from services.providers._common import ProviderKeys, json_of
from services.providers._match import best_match, name_similarity
from services.providers._outbound import ProviderChannel
from services.providers.errors import ProviderError, ProviderNotConfigured
from services.providers.models import ImvdbEntity, ImvdbSearch, ImvdbVideo

NAME = "imvdb"
LABEL = "IMVDb"
USER_AGENT = "MVidarr/1.0"
MATCH_THRESHOLD = 0.8
HELP_URL = "https://imvdb.com/developers/api"


class ImvdbClient:
    def __init__(self, channel: ProviderChannel, *, api_url: str, keys: ProviderKeys) -> None:
        self.channel = channel
        self.api_url = api_url.rstrip("/")
        self.keys = keys

    def is_configured(self) -> bool:
        return bool(self.keys.imvdb_api_key)

    async def _get(self, path: str, params: dict[str, Any], *, endpoint: str) -> Any:
        if not self.is_configured():
            raise ProviderNotConfigured(NAME, "IMVDb API key not configured")
        response = await self.channel.request(
            "GET",
            f"{self.api_url}/{path}",
            endpoint=endpoint,
            params=params,
            headers={"Authorization": f"Bearer {self.keys.imvdb_api_key}", "User-Agent": USER_AGENT},
        )
        if response.status_code == 401:
            raise ProviderError(NAME, "IMVDb API authentication failed - check API key", 401)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ProviderError(NAME, f"IMVDb API error: HTTP {response.status_code}", response.status_code)
        return json_of(NAME, LABEL, response)

    async def search_artists(self, name: str) -> list[ImvdbEntity]:
        body = await self._get("search/entities", {"q": name}, endpoint="search_entities")
        return [ImvdbEntity.parse(r) for r in ImvdbSearch.parse(body or {}).results]

    async def find_artist(self, name: str) -> ImvdbEntity | None:
        return best_match(name, await self.search_artists(name), lambda e: e.name, MATCH_THRESHOLD)

    async def search_videos(self, artist: str, title: str) -> list[ImvdbVideo]:
        body = await self._get("search/videos", {"q": f"{artist} - {title}"}, endpoint="search_videos")
        return [ImvdbVideo.parse(r) for r in ImvdbSearch.parse(body or {}).results]

    async def find_video(self, artist: str, title: str) -> ImvdbVideo | None:
        """The search hit whose title and artist both match, or None."""
        for video in await self.search_videos(artist, title):
            title_ok = name_similarity(title, video.song_title) >= MATCH_THRESHOLD
            if title_ok and any(name_similarity(artist, a.name) >= MATCH_THRESHOLD for a in video.artists):
                return video
        return None

    async def get_video(self, video_id: int | str) -> ImvdbVideo | None:
        body = await self._get(f"video/{video_id}", {"include": "credits,sources,featured"}, endpoint="video")
        return ImvdbVideo.parse(body) if isinstance(body, dict) else None

    async def test_connection(self) -> dict[str, str]:
        """Legacy's `test_connection()` answer, for `/api/health/imvdb`."""
        try:
            await self._get("search/videos", {"q": "test", "per_page": 1}, endpoint="search_videos")
        except ProviderNotConfigured:
            return {"status": "error", "message": "IMVDb API key not configured", "help_url": HELP_URL}
        except ProviderError as exc:
            return {"status": "error", "message": str(exc), "help_url": HELP_URL}
        return {"status": "success", "message": "IMVDb API connection successful", "help_url": HELP_URL}
