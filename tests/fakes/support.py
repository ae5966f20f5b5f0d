"""Run the fake provider server for a test and point the legacy app at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.fakes import providers
from tests.support.servers import uvicorn_thread


@dataclass
class RunningFake:
    url: str
    state: providers.FakeState

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def configure(self, **per_provider: dict[str, Any]) -> None:
        response = httpx.post(f"{self.url}/_fake/config", json=per_provider)
        response.raise_for_status()


@contextmanager
def running_fake(**options: Any) -> Iterator[RunningFake]:
    """`create_app(**options)` served on a free port for the duration of the block."""
    app = providers.create_app(**options)
    with uvicorn_thread(app) as server:
        yield RunningFake(server.url, app.state.fake)


def provider_config(base_url: str, **overrides: Any) -> dict[str, Any]:
    """The legacy app config (the same keys as its env vars) for a fake at `base_url`."""
    config: dict[str, Any] = {
        "SPOTIFY_API_URL": f"{base_url}/spotify/v1",
        "SPOTIFY_ACCOUNTS_URL": f"{base_url}/spotify/accounts",
        "MUSICBRAINZ_API_URL": f"{base_url}/musicbrainz/ws/2",
        "LASTFM_API_URL": f"{base_url}/lastfm/2.0/",
        "IMVDB_API_URL": f"{base_url}/imvdb/api/v1",
        "SPOTIFY_CLIENT_ID": providers.SPOTIFY_CLIENT_ID,
        "SPOTIFY_CLIENT_SECRET": providers.SPOTIFY_CLIENT_SECRET,
        "LASTFM_API_KEY": providers.LASTFM_API_KEY,
        "IMVDB_API_KEY": providers.IMVDB_API_KEY,
    }
    config.update(overrides)
    return config
