"""Last.fm client, as MVidarr's lastfm_service.py: an error JSON from Last.fm becomes
`Last.fm API error: <message>`; "not found" (error 6) is None."""

from __future__ import annotations

import logging
from typing import Any

import requests

from legacy_flask.providers._common import (
    ProviderError,
    ProviderNotConfigured,
    config_value,
    credential,
    json_body,
)

log = logging.getLogger("legacy_flask.providers.lastfm")

TIMEOUT = 10
NOT_FOUND = 6


class LastfmService:
    @property
    def base_url(self) -> str:
        return config_value("LASTFM_API_URL")

    @property
    def api_key(self) -> str:
        return credential("lastfm_api_key", "LASTFM_API_KEY")

    def is_configured(self) -> bool:
        return bool(self.api_key)

    def _make_request(self, method: str, **params: str) -> dict[str, Any] | None:
        key = self.api_key
        if not key:
            raise ProviderNotConfigured("lastfm", "Last.fm API key not configured")
        try:
            response = requests.get(
                self.base_url,
                params={"method": method, "api_key": key, "format": "json", **params},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise ProviderError("lastfm", f"Last.fm request failed: {exc}") from exc
        body = json_body("lastfm", response)
        if isinstance(body, dict) and "error" in body:
            if body.get("error") == NOT_FOUND:
                return None
            raise ProviderError("lastfm", f"Last.fm API error: {body.get('message')}", response.status_code)
        if response.status_code != 200 or not isinstance(body, dict):
            raise ProviderError(
                "lastfm", f"Last.fm API error: HTTP {response.status_code}", response.status_code
            )
        return body

    def get_artist_info(self, name: str) -> dict[str, Any] | None:
        body = self._make_request("artist.getinfo", artist=name, autocorrect="1")
        return body.get("artist") if body else None

    def get_track_info(self, artist: str, track: str) -> dict[str, Any] | None:
        body = self._make_request("track.getinfo", artist=artist, track=track, autocorrect="1")
        return body.get("track") if body else None


lastfm_service = LastfmService()
