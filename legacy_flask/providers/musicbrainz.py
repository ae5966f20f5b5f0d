"""MusicBrainz client, as MVidarr's musicbrainz_service.py: a User-Agent on every request and
at least `MUSICBRAINZ_MIN_INTERVAL` (1 s) between requests, kept per process with time.sleep."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests

from legacy_flask.providers._common import ProviderError, best_match, config_float, config_value, json_body

log = logging.getLogger("legacy_flask.providers.musicbrainz")

USER_AGENT = "MVidarr/0.9.7 (https://github.com/prefect421/mvidarr)"
DEFAULT_MIN_INTERVAL = 1.0
TIMEOUT = 10


class MusicBrainzService:
    def __init__(self) -> None:
        self._last_request_time = 0.0
        # Held while sleeping: concurrent request threads queue up behind one another.
        self._rate_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return config_value("MUSICBRAINZ_API_URL").rstrip("/")

    def _respect_rate_limit(self) -> None:
        interval = config_float("MUSICBRAINZ_MIN_INTERVAL", DEFAULT_MIN_INTERVAL)
        elapsed = time.monotonic() - self._last_request_time
        if elapsed < interval:
            time.sleep(interval - elapsed)
        self._last_request_time = time.monotonic()

    def _make_request(self, path: str, params: dict[str, Any]) -> Any:
        with self._rate_lock:
            self._respect_rate_limit()
            try:
                response = requests.get(
                    f"{self.base_url}/{path}",
                    params={**params, "fmt": "json"},
                    headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                    timeout=TIMEOUT,
                )
            except requests.RequestException as exc:
                raise ProviderError("musicbrainz", f"MusicBrainz request failed: {exc}") from exc
            finally:
                # Spacing counts from the end of the previous call, so a slow answer
                # never lets the next request start early.
                self._last_request_time = time.monotonic()
        if response.status_code == 404:
            return None
        if response.status_code == 503:
            log.warning("musicbrainz rate limit hit (503)")
            raise ProviderError("musicbrainz", "MusicBrainz rate limit exceeded (HTTP 503)", 503)
        if response.status_code != 200:
            raise ProviderError(
                "musicbrainz", f"MusicBrainz API error: HTTP {response.status_code}", response.status_code
            )
        return json_body("musicbrainz", response)

    def search_artist(self, name: str, limit: int = 10) -> list[dict[str, Any]]:
        body = self._make_request("artist", {"query": f'artist:"{name}"', "limit": limit, "offset": 0})
        return list((body or {}).get("artists") or [])

    def find_artist(self, name: str) -> dict[str, Any] | None:
        return best_match(name, self.search_artist(name), "name", threshold=0.8)


musicbrainz_service = MusicBrainzService()
