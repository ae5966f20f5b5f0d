"""What the four typed clients share: JSON decoding with legacy's message, and the keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.providers._direct import ProviderResponse
from services.providers.errors import ProviderError


def json_of(provider: str, label: str, response: ProviderResponse) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError(provider, f"{label} answered non-JSON (HTTP {response.status_code})") from exc


@dataclass(frozen=True)
class ProviderKeys:
    """The credentials in force for one request (settings table first, then env, as legacy).
    Kept out of `repr` so a logged object cannot leak them."""

    spotify_client_id: str = ""
    spotify_client_secret: str = field(default="", repr=False)
    lastfm_api_key: str = field(default="", repr=False)
    imvdb_api_key: str = field(default="", repr=False)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.spotify_client_secret, self.lastfm_api_key, self.imvdb_api_key) if s)
