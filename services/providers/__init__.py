"""Async clients of the metadata providers (Spotify, MusicBrainz, Last.fm, IMVDb).

`ProviderHub` (one per process, `app.state.providers`) owns the shared HTTP client (straight
on aiohttp by default, `_direct.py`; httpx's own for respx tests) and each provider's channel;
`hub.spotify(keys)` etc. give typed clients. Errors: see `services.providers.errors`.
"""

from services.providers._common import ProviderKeys
from services.providers.errors import ProviderError, ProviderNotConfigured, ProviderUnavailable
from services.providers.hub import ProviderHub, provider_lifespan

__all__ = [
    "ProviderError",
    "ProviderHub",
    "ProviderKeys",
    "ProviderNotConfigured",
    "ProviderUnavailable",
    "provider_lifespan",
]
