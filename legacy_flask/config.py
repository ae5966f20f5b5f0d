"""Configuration from the environment, the way MVidarr's app.py / src/config reads it.

Plain `os.environ` reading lives in this one module (legacy style); everything else gets a
dict from `load_config()` and reads `app.config`.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_SECRET_KEY = "mvidarr-dev-secret-key-change-me"
DEFAULT_DEMO_PASSWORD = "Figway-demo-1"

PROVIDER_DEFAULTS = {
    "SPOTIFY_API_URL": "https://api.spotify.com/v1",
    "SPOTIFY_ACCOUNTS_URL": "https://accounts.spotify.com",
    "MUSICBRAINZ_API_URL": "https://musicbrainz.org/ws/2",
    "LASTFM_API_URL": "https://ws.audioscrobbler.com/2.0/",
    "IMVDB_API_URL": "https://imvdb.com/api/v1",
    "SPOTIFY_CLIENT_ID": "",
    "SPOTIFY_CLIENT_SECRET": "",
    "LASTFM_API_KEY": "",
    "IMVDB_API_KEY": "",
}


def default_database_url() -> str:
    return f"sqlite:///{ROOT / 'var' / 'figway.db'}"


def _absolute_sqlite(url: str) -> str:
    """A relative SQLite path (`sqlite:///var/figway.db`) is taken relative to the repo root."""
    for prefix in ("sqlite+pysqlite:///", "sqlite+aiosqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :]
            if path and path != ":memory:" and not path.startswith("/"):
                return prefix + str(ROOT / path)
    return url


def load_config() -> dict[str, str]:
    """Every setting the legacy app reads from the environment, with its default."""
    env = os.environ
    config = {
        "DATABASE_URL": _absolute_sqlite(env.get("DATABASE_URL") or default_database_url()),
        "SECRET_KEY": env.get("MVIDARR_SECRET_KEY") or DEFAULT_SECRET_KEY,
        "FIGWAY_DEMO_PASSWORD": env.get("FIGWAY_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD,
    }
    for key, default in PROVIDER_DEFAULTS.items():
        config[key] = env.get(key, default)
    return config
