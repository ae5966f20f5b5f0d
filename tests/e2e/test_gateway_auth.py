"""Through the gateway: a login on the legacy side works on migrated routes, and the reverse.

Legacy (werkzeug) and services (uvicorn) share one SQLite database; the gateway sends the
token endpoints and `/api/playlists/` to services and everything else to legacy, as a
cutover in progress would. The browser-like client only ever talks to the gateway.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from legacy_flask.app import create_app as create_legacy_app
from legacy_flask.extensions import ENGINE_KEY
from services.app import create_app as create_services_app
from services.settings import Settings
from tests.contract.harness import prepare_database
from tests.gateway.proxy_support import gateway_server, table_yaml
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread, wsgi_thread

PASSWORD = "Figway-demo-1"
ROUTES = """
  - id: auth-token
    path: /auth/token
    methods: [POST]
    to: services
  - id: auth-refresh
    path: /auth/refresh
    methods: [POST]
    to: services
  - id: auth-me
    path: /auth/me
    methods: [GET]
    to: services
  - id: auth-exchange
    path: /auth/session-exchange
    methods: [POST]
    to: services
  - id: playlists
    path: /api/playlists/
    methods: [GET]
    to: services
"""


@pytest.fixture
def gateway_url(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite+pysqlite:///{tmp_path / 'figway.db'}"
    prepare_database(url)
    legacy_app = create_legacy_app({"DATABASE_URL": url, "TESTING": True})
    settings = Settings(database_url=async_url(url), refresh_cookie_secure=False)
    try:
        with (
            wsgi_thread(legacy_app) as legacy,
            uvicorn_thread(create_services_app(settings)) as services,
        ):
            text = table_yaml(
                {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}, ROUTES
            )
            with gateway_server(tmp_path, text) as (gateway, _):
                yield gateway.url
    finally:
        legacy_app.extensions[ENGINE_KEY].dispose()


def test_legacy_login_then_migrated_routes_through_the_gateway(gateway_url: str) -> None:
    with httpx.Client(base_url=gateway_url, timeout=30) as browser:
        login = browser.post("/auth/login", json={"username": "manager", "password": PASSWORD})
        assert login.status_code == 200 and login.headers["x-gateway-upstream"] == "legacy"
        playlists = browser.get("/api/playlists/")
        assert playlists.status_code == 200 and playlists.headers["x-gateway-upstream"] == "services"
        me = browser.get("/auth/me")
        assert me.headers["x-gateway-upstream"] == "services"
        assert me.json()["user"]["username"] == "manager" and me.json()["auth"] == "session"
        exchanged = browser.post("/auth/session-exchange")
        token = exchanged.json()["access_token"]
        assert browser.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["auth"] == "jwt"


def test_services_login_then_legacy_routes_through_the_gateway(gateway_url: str) -> None:
    with httpx.Client(base_url=gateway_url, timeout=30) as browser:
        token = browser.post("/auth/token", json={"username": "user", "password": PASSWORD})
        assert token.status_code == 200 and token.headers["x-gateway-upstream"] == "services"
        session = browser.get("/auth/session")
        assert session.headers["x-gateway-upstream"] == "legacy"
        assert session.status_code == 200 and session.json()["user"]["username"] == "user"
        refreshed = browser.post("/auth/refresh")
        assert refreshed.status_code == 200 and refreshed.json()["access_token"]
        logout = browser.post("/auth/logout")  # legacy's logout ends the session both sides read
        assert logout.status_code == 200 and logout.headers["x-gateway-upstream"] == "legacy"
        assert browser.get("/auth/me").status_code == 401
