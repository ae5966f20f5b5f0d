"""Fixtures for the resource API tests: a small seeded SQLite database and the app on it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine

from legacy_flask.seed import seed
from services.app import create_app
from services.settings import Settings
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread


@pytest.fixture
def seeded_sqlite(sqlite_url: str) -> str:
    engine = create_engine(sqlite_url)
    try:
        seed(engine, scale=0.02)
    finally:
        engine.dispose()
    return sqlite_url


@pytest.fixture
def services_client(seeded_sqlite: str) -> Iterator[httpx.Client]:
    """The services app on a small seeded SQLite database, over a real socket."""
    app = create_app(Settings(database_url=async_url(seeded_sqlite), settings_cache_ttl=0))
    with uvicorn_thread(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
