"""IMVDb client, as MVidarr's imvdb_service.py: Bearer key + `MVidarr/1.0`, timeout 30 s,
requests spaced `IMVDB_MIN_INTERVAL` (1 s) apart, a 429 sleeps `IMVDB_RETRY_PAUSE` (5 s) and
tries once more."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests

from legacy_flask.providers._common import (
    ProviderError,
    ProviderNotConfigured,
    best_match,
    config_float,
    config_value,
    credential,
    json_body,
    name_similarity,
)

log = logging.getLogger("legacy_flask.providers.imvdb")

USER_AGENT = "MVidarr/1.0"
TIMEOUT = 30
DEFAULT_MIN_INTERVAL = 1.0
DEFAULT_RETRY_PAUSE = 5.0


class IMVDbService:
    def __init__(self) -> None:
        self._last_request_time = 0.0
        self._rate_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return config_value("IMVDB_API_URL").rstrip("/")

    @property
    def api_key(self) -> str:
        return credential("imvdb_api_key", "IMVDB_API_KEY")

    def is_configured(self) -> bool:
        return bool(self.api_key)

    def _rate_limit(self) -> None:
        interval = config_float("IMVDB_MIN_INTERVAL", DEFAULT_MIN_INTERVAL)
        elapsed = time.monotonic() - self._last_request_time
        if elapsed < interval:
            time.sleep(interval - elapsed)
        self._last_request_time = time.monotonic()

    def _make_request(self, path: str, params: dict[str, Any] | None = None, *, retried: bool = False) -> Any:
        key = self.api_key
        if not key:
            raise ProviderNotConfigured("imvdb", "IMVDb API key not configured")
        with self._rate_lock:
            self._rate_limit()
            try:
                response = requests.get(
                    f"{self.base_url}/{path}",
                    params=params,
                    headers={"Authorization": f"Bearer {key}", "User-Agent": USER_AGENT},
                    timeout=TIMEOUT,
                )
            except requests.RequestException as exc:
                raise ProviderError("imvdb", f"IMVDb request failed: {exc}") from exc
        if response.status_code == 429 and not retried:
            log.warning("imvdb rate limited (429), sleeping before one retry")
            time.sleep(config_float("IMVDB_RETRY_PAUSE", DEFAULT_RETRY_PAUSE))
            return self._make_request(path, params, retried=True)
        if response.status_code == 401:
            log.error("IMVDb API authentication failed - check API key")
            raise ProviderError("imvdb", "IMVDb API authentication failed - check API key", 401)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ProviderError(
                "imvdb", f"IMVDb API error: HTTP {response.status_code}", response.status_code
            )
        return json_body("imvdb", response)

    def search_artists(self, name: str) -> list[dict[str, Any]]:
        body = self._make_request("search/entities", {"q": name})
        return list((body or {}).get("results") or [])

    def find_artist(self, name: str) -> dict[str, Any] | None:
        return best_match(name, self.search_artists(name), "name", threshold=0.8)

    def search_videos(self, artist: str, title: str) -> list[dict[str, Any]]:
        body = self._make_request("search/videos", {"q": f"{artist} - {title}"})
        return list((body or {}).get("results") or [])

    def find_video(self, artist: str, title: str) -> dict[str, Any] | None:
        """The search hit whose title and artist both match, or None."""
        for video in self.search_videos(artist, title):
            artists = [str(a.get("name") or "") for a in video.get("artists") or []]
            title_ok = name_similarity(title, str(video.get("song_title") or "")) >= 0.8
            if title_ok and any(name_similarity(artist, a) >= 0.8 for a in artists):
                return video
        return None

    def get_video(self, video_id: int | str) -> dict[str, Any] | None:
        body = self._make_request(f"video/{video_id}", {"include": "credits,sources,featured"})
        return body if isinstance(body, dict) else None

    def test_connection(self) -> dict[str, Any]:
        help_url = "https://imvdb.com/developers/api"
        try:
            self._make_request("search/videos", {"q": "test", "per_page": 1})
        except ProviderNotConfigured:
            return {"status": "error", "message": "IMVDb API key not configured", "help_url": help_url}
        except ProviderError as exc:
            return {"status": "error", "message": str(exc), "help_url": help_url}
        return {"status": "success", "message": "IMVDb API connection successful", "help_url": help_url}


imvdb_service = IMVDbService()
