"""The stack the security findings (issue 15) are tried against, as an attacker would.

One seeded database (SQLite or MariaDB, by `database_url`), legacy (werkzeug) and services
(uvicorn) on real sockets over it, and the caller's view of services either directly or
through the gateway (`target`: "direct", "gateway" in a thread, or "process": the gateway
as its own program; the table sends everything to services). Legacy is always reached
directly: it is where the legacy logout happens.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from legacy_flask.app import create_app as create_legacy_app
from legacy_flask.extensions import ENGINE_KEY
from services.app import create_app as create_services_app
from services.auth.flask_session import dump_session
from services.settings import Settings
from tests.contract.harness import USERS, prepare_database
from tests.gateway.proxy_support import gateway_server, table_yaml
from tests.support.databases import async_url
from tests.support.servers import free_port, python_module, subprocess_server, uvicorn_thread, wsgi_thread

PASSWORD = "Figway-demo-1"
COOKIE = "mvidarr_session"
TARGETS = ("direct", "gateway")


@dataclass
class Stack:
    api: httpx.Client  # services, directly or through the gateway
    legacy: httpx.Client
    engine: Engine
    settings: Settings
    legacy_app: Any
    target: str

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def execute(self, sql: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)

    def cookie(self, user: str, *, token: str | None = None, **extra: Any) -> str:
        """A cookie signed with the shared key for the seeded session `token-<user>`."""
        data: dict[str, Any] = {
            "user_id": USERS[user],
            "username": user,
            "role": "x",
            "session_token": token or f"token-{user}",
        }
        data.update(extra)
        return dump_session(data, secret_key=self.settings.secret_key.get_secret_value())

    def login_token(self, user: str) -> dict[str, Any]:
        """`/auth/token` for `user`: the access token and every cookie set with it."""
        response = self.api.post("/auth/token", json={"username": user, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"access": response.json()["access_token"], "cookies": dict(response.cookies)}

    def fresh(self) -> httpx.Client:
        """A second, cookie-less client to the same place as `api`."""
        return httpx.Client(base_url=str(self.api.base_url), timeout=30)


@contextmanager
def serve_stack(url: str, tmp_path: Path, target: str, **overrides: Any) -> Iterator[Stack]:
    prepare_database(url)
    secret = secrets.token_urlsafe(48)
    legacy_app = create_legacy_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": secret})
    options: dict[str, Any] = {
        "database_url": async_url(url),
        "secret_key": secret,
        "jwt_secret": secrets.token_urlsafe(48),
        "refresh_cookie_secure": False,
        "settings_cache_ttl": 0,
        "session_check_ttl_seconds": 0,
        # A minute before the first attempt past the limit: a burst on a loaded machine never
        # spreads wide enough to earn a check by the clock, so counts are exact.
        "login_delay_base_seconds": 60,
    }
    options.update(overrides)
    settings = Settings(**options)
    engine = create_engine(url)
    try:
        with (
            wsgi_thread(legacy_app) as legacy,
            uvicorn_thread(create_services_app(settings), proxy_headers=False) as services,
            httpx.Client(base_url=legacy.url, timeout=30) as legacy_client,
        ):
            if target == "direct":
                with httpx.Client(base_url=services.url, timeout=30) as api:
                    yield Stack(api, legacy_client, engine, settings, legacy_app, target)
            elif target == "process":  # the gateway as its own program, `python -m gateway serve`
                routing = tmp_path / "routing.yaml"
                routing.write_text(table_yaml({"services": f"{{url: '{services.url}'}}"}, default="services"))
                port = free_port()
                env = {
                    "GATEWAY_ROUTING_FILE": str(routing),
                    "GATEWAY_WATCH": "false",
                    "GATEWAY_STATE_DIR": str(tmp_path / "gateway-state"),
                    "GATEWAY_LOG_LEVEL": "warning",
                }
                with (
                    subprocess_server(
                        python_module("gateway", "serve", "--port", str(port)), port=port, env=env
                    ),
                    httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as api,
                ):
                    yield Stack(api, legacy_client, engine, settings, legacy_app, target)
            else:
                table = table_yaml({"services": f"{{url: '{services.url}'}}"}, default="services")
                with (
                    gateway_server(tmp_path, table) as (gateway, _),
                    httpx.Client(base_url=gateway.url, timeout=30) as api,
                ):
                    yield Stack(api, legacy_client, engine, settings, legacy_app, target)
    finally:
        engine.dispose()
        legacy_app.extensions[ENGINE_KEY].dispose()


@pytest.fixture(name="stack", params=TARGETS)
def stack_fixture(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Stack]:
    with serve_stack(database_url, tmp_path, request.param) as running:
        yield running
