from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from legacy_flask.app import create_app
from legacy_flask.database import init_db, make_engine
from legacy_flask.extensions import ENGINE_KEY
from legacy_flask.seed import seed
from tests.support.databases import BACKENDS, fresh_database

PASSWORD = "Figway-demo-1"
# 10 artists, 250 videos, 2-3 playlists: enough shape for every endpoint, seeded in well under a second.
TEST_SCALE = 0.05
# For tests of pure request handling (routing, decorators, error bodies): the database plays no
# part, and the other tests cover every query on both backends.
sqlite_only = pytest.mark.parametrize("legacy_database", ["sqlite"], indirect=True)


@pytest.fixture(scope="session", params=BACKENDS)
def legacy_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per backend for the whole run, made like `database_url` makes its own.

    Creating a MariaDB database and its tables per test costs over a second on a busy
    machine; `seed()` clears every table first, so re-seeding gives each test the same state.
    """
    with fresh_database(request.param, tmp_path_factory.mktemp("legacy")) as url:
        engine = make_engine(url)
        init_db(engine)
        engine.dispose()
        yield url


@pytest.fixture
def seeded_url(legacy_database: str) -> str:
    engine = make_engine(legacy_database)
    try:
        seed(engine, scale=TEST_SCALE, password=PASSWORD)
    finally:
        engine.dispose()
    return legacy_database


@pytest.fixture
def app(seeded_url: str) -> Iterator[Flask]:
    application = create_app({"DATABASE_URL": seeded_url, "SECRET_KEY": "test-secret", "TESTING": True})
    yield application
    application.extensions[ENGINE_KEY].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session of its own (outside any request), for arranging and checking rows.

    AUTOCOMMIT so that no read holds a REPEATABLE READ snapshot on MariaDB: every query sees
    what the app committed in between.
    """
    engine: Engine = app.extensions[ENGINE_KEY].execution_options(isolation_level="AUTOCOMMIT")
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def login(app: Flask) -> Callable[[str], FlaskClient]:
    """A fresh test client logged in as the named demo user."""

    def _login(username: str) -> FlaskClient:
        c = app.test_client()
        response = c.post("/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return c

    return _login
