"""Fixtures for the auth tests: a database with one user per role, services on a real socket.

Test modules import the fixtures they use (`services_fixture`, `users_db_fixture`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import create_engine, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from legacy_flask.auth.service import hash_password
from legacy_flask.database import init_db
from legacy_flask.models import User, UserRole
from services.app import create_app, mount_routers
from services.migrate import upgrade
from services.settings import Settings
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread

PASSWORD = "Figway-demo-1"
USERS = {
    "admin": UserRole.ADMIN,
    "manager": UserRole.MANAGER,
    "user": UserRole.USER,
    "readonly": UserRole.READONLY,
}
_HASH: dict[str, str] = {}


def demo_hash() -> str:
    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = hash_password(PASSWORD)
    return _HASH[PASSWORD]


def prepare_users(sync_url: str) -> None:
    """Legacy's schema, one user per role (legacy's hash), then the services migrations."""
    engine = create_engine(sync_url)
    try:
        init_db(engine)
        with Session(engine) as session:
            session.execute(
                insert(User),
                [
                    {
                        "id": index,
                        "username": name,
                        "email": f"{name}@figway.local",
                        "password_hash": demo_hash(),
                        "role": role,
                    }
                    for index, (name, role) in enumerate(USERS.items(), start=1)
                ],
            )
            session.commit()
    finally:
        engine.dispose()
    upgrade(Settings(database_url=sync_url))


@dataclass
class Services:
    client: httpx.Client
    engine: Engine
    settings: Settings

    def rows(self, query: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    def set_user(self, username: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(User).where(User.username == username).values(**values))

    def user(self, username: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(User.__table__).where(User.username == username)).one()

    def login_token(self, username: str, password: str = PASSWORD) -> str:
        response = self.client.post("/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


@contextmanager
def serve(sync_url: str, routers: Sequence[APIRouter] = (), **settings: Any) -> Iterator[Services]:
    settings.setdefault("refresh_cookie_secure", False)  # the tests speak plain http
    # A minute before the first attempt past the login limit: no count depends on the machine's speed.
    settings.setdefault("login_delay_base_seconds", 60)
    config = Settings(database_url=async_url(sync_url), **settings)
    app = create_app(config)
    mount_routers(app, routers)
    engine = create_engine(sync_url)
    try:
        with (
            # uvicorn's own X-Forwarded-For rewriting off: services.auth.network decides (TRUSTED_PROXIES).
            uvicorn_thread(app, proxy_headers=False) as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            yield Services(client, engine, config)
    finally:
        engine.dispose()


@pytest.fixture(name="users_db")
def users_db_fixture(database_url: str) -> str:
    prepare_users(database_url)
    return database_url


@pytest.fixture(name="services")
def services_fixture(users_db: str) -> Iterator[Services]:
    with serve(users_db) as running:
        yield running
