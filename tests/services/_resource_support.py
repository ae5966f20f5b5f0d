"""Fixtures for the resource API tests: a small seeded SQLite database and the app on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy import create_engine, insert

from legacy_flask.models import UserSession
from legacy_flask.seed import seed
from services.app import create_app
from services.auth.flask_session import dump_session
from services.settings import DEFAULT_SECRET_KEY, Settings
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


def live_session_cookie(url: str, username: str) -> str:
    """A signed cookie for a new live `user_sessions` row of a seeded user (what a login gives)."""
    users = {"admin": 1, "manager": 2, "user": 3, "readonly": 4}
    token = f"live-{username}-{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(UserSession).values(
                    user_id=users[username],
                    session_token=token,
                    status="ACTIVE",
                    created_at=datetime(2025, 1, 1),
                    last_activity=datetime(2025, 1, 1),
                    expires_at=datetime(2099, 1, 1),
                )
            )
    finally:
        engine.dispose()
    data = {"user_id": users[username], "username": username, "session_token": token}
    return dump_session(data, secret_key=DEFAULT_SECRET_KEY)
