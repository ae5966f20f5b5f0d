"""Spotify Web API client (client-credentials flow), as MVidarr's spotify_service.py."""

from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any

import requests

from legacy_flask.providers._common import (
    ProviderError,
    ProviderNotConfigured,
    best_match,
    config_value,
    credential,
    json_body,
)

log = logging.getLogger("legacy_flask.providers.spotify")

TIMEOUT = 10
# A token is refreshed this many seconds before Spotify says it expires.
EXPIRY_MARGIN = 60


class SpotifyService:
    def __init__(self) -> None:
        self._access_token: str | None = None
        self._token_expires = 0.0
        # MVidarr drops the token in reload_settings() when the credentials change; keying
        # the cache on them does the same without the explicit call.
        self._token_owner: tuple[str, str] | None = None
        self._lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return config_value("SPOTIFY_API_URL").rstrip("/")

    @property
    def accounts_url(self) -> str:
        return config_value("SPOTIFY_ACCOUNTS_URL").rstrip("/")

    def credentials(self) -> tuple[str, str]:
        return (
            credential("spotify_client_id", "SPOTIFY_CLIENT_ID"),
            credential("spotify_client_secret", "SPOTIFY_CLIENT_SECRET"),
        )

    def is_configured(self) -> bool:
        return all(self.credentials())

    def reload_settings(self) -> None:
        with self._lock:
            self._access_token = None
            self._token_expires = 0.0
            self._token_owner = None

    def _ensure_valid_token(self) -> str:
        client_id, secret = self.credentials()
        if not client_id or not secret:
            raise ProviderNotConfigured("spotify", "Spotify client id/secret not configured")
        owner = (self.accounts_url, client_id)
        with self._lock:
            if self._access_token and self._token_owner == owner and time.time() < self._token_expires:
                return self._access_token
            basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
            try:
                response = requests.post(
                    f"{self.accounts_url}/api/token",
                    data={"grant_type": "client_credentials"},
                    headers={"Authorization": f"Basic {basic}"},
                    timeout=TIMEOUT,
                )
            except requests.RequestException as exc:
                raise ProviderError("spotify", f"Spotify token request failed: {exc}") from exc
            body = json_body("spotify", response)
            if response.status_code != 200 or "access_token" not in body:
                detail = body.get("error_description") or body.get("error") or response.status_code
                raise ProviderError(
                    "spotify", f"Spotify authentication failed: {detail}", response.status_code
                )
            self._access_token = str(body["access_token"])
            self._token_expires = time.time() + int(body.get("expires_in", 3600)) - EXPIRY_MARGIN
            self._token_owner = owner
            log.info("spotify token refreshed, expires in %ss", body.get("expires_in"))
            return self._access_token

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        token = self._ensure_valid_token()
        try:
            response = requests.get(
                f"{self.api_url}/{path.lstrip('/')}",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise ProviderError("spotify", f"Spotify request failed: {exc}") from exc
        if response.status_code == 401:
            self.reload_settings()
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            body = json_body("spotify", response)
            message = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
            raise ProviderError(
                "spotify", f"Spotify API error {response.status_code}: {message}", response.status_code
            )
        return json_body("spotify", response)

    def search_artist(self, name: str, limit: int = 10) -> list[dict[str, Any]]:
        body = self._get("search", {"q": f'artist:"{name}"', "type": "artist", "limit": limit})
        return list(((body or {}).get("artists") or {}).get("items") or [])

    def get_artist(self, artist_id: str) -> dict[str, Any] | None:
        body = self._get(f"artists/{artist_id}")
        return body if isinstance(body, dict) else None

    def find_artist(self, name: str) -> dict[str, Any] | None:
        """The best-matching artist with its full record, or None."""
        match = best_match(name, self.search_artist(name), "name", threshold=0.8)
        if match is None:
            return None
        return self.get_artist(str(match["id"])) or match


spotify_service = SpotifyService()
