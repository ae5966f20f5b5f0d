"""One database, two apps: a login on either side is a login on the other (legacy's real Flask app)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select, update
from werkzeug.security import check_password_hash

from legacy_flask.app import create_app as create_legacy_app
from legacy_flask.auth.service import hash_password as legacy_hash
from legacy_flask.models import SessionStatus, User, UserSession
from services.auth.flask_session import dump_session
from services.auth.passwords import hash_password, verify_password
from tests.services._auth_support import PASSWORD, Services, serve, users_db_fixture
from tests.support.servers import wsgi_thread

__all__ = ["users_db_fixture"]  # fixtures used by name

COOKIE = "mvidarr_session"


@dataclass
class Both:
    legacy: httpx.Client
    services: Services


@contextmanager
def _both(url: str) -> Iterator[Both]:
    legacy_app = create_legacy_app({"DATABASE_URL": url, "TESTING": True})
    try:
        with (
            wsgi_thread(legacy_app) as legacy,
            httpx.Client(base_url=legacy.url, timeout=30) as legacy_client,
            serve(url) as services,
        ):
            yield Both(legacy_client, services)
    finally:
        legacy_app.extensions["figway_engine"].dispose()


@pytest.fixture
def both(users_db: str) -> Iterator[Both]:
    with _both(users_db) as running:
        yield running


def test_a_services_login_is_a_login_on_legacy(both: Both) -> None:
    login = both.services.client.post("/auth/login", json={"username": "manager", "password": PASSWORD})
    assert login.status_code == 200
    cookie = login.cookies[COOKIE]
    check = both.legacy.get("/auth/check", cookies={COOKIE: cookie}).json()
    assert check["authenticated"] is True and check["user"]["username"] == "manager"
    session = both.legacy.get("/auth/session", cookies={COOKIE: cookie})
    assert session.status_code == 200 and session.json()["permissions"]["can_delete"] is True
    # Legacy's logout revokes the row services created: the cookie is dead on both sides.
    assert both.legacy.post("/auth/logout", cookies={COOKIE: cookie}).status_code == 200
    both.services.client.cookies.clear()
    assert both.services.client.get("/auth/check", cookies={COOKIE: cookie}).json() == {
        "authenticated": False
    }


def test_a_token_login_also_opens_a_legacy_session(both: Both) -> None:
    response = both.services.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
    cookie = response.cookies[COOKIE]
    assert both.legacy.get("/auth/check", cookies={COOKIE: cookie}).json()["user"]["username"] == "user"


def test_a_legacy_login_is_a_login_on_services(both: Both) -> None:
    login = both.legacy.post("/auth/login", json={"username": "admin", "password": PASSWORD})
    assert login.status_code == 200
    cookie = login.cookies[COOKIE]
    client = both.services.client
    client.cookies.clear()
    me = client.get("/auth/me", cookies={COOKIE: cookie}).json()
    assert me["user"]["username"] == "admin" and me["auth"] == "session"
    client.cookies.clear()
    assert client.get("/auth/session", cookies={COOKIE: cookie}).json()["user"]["role"] == "ADMIN"
    # The legacy session buys tokens, and a services logout ends the legacy session.
    client.cookies.clear()
    exchanged = client.post("/auth/session-exchange", cookies={COOKIE: cookie})
    assert exchanged.status_code == 200 and exchanged.json()["access_token"]
    client.cookies.clear()
    assert client.post("/auth/logout", cookies={COOKIE: cookie}).status_code == 200
    assert both.legacy.get("/auth/check", cookies={COOKIE: cookie}).json() == {"authenticated": False}


def test_tampered_cookies_are_refused_by_both(both: Both) -> None:
    login = both.services.client.post("/auth/login", json={"username": "user", "password": PASSWORD})
    good = login.cookies[COOKIE]
    payload, stamp, signature = good.rsplit(".", 2)
    secret = both.services.settings.secret_key.get_secret_value()
    forged = [
        f"{payload}.{stamp}.{'A' * len(signature)}",  # wrong signature
        f"{payload[:-2]}xx.{stamp}.{signature}",  # edited payload
        dump_session({"user_id": 1, "username": "admin", "session_token": "guess"}, secret_key="other-key"),
        # Right key but a session token that no row has: legacy checks the row, so do we.
        dump_session({"user_id": 1, "username": "admin", "session_token": "guess"}, secret_key=secret),
    ]
    for cookie in forged:
        both.services.client.cookies.clear()
        assert both.services.client.get("/auth/check", cookies={COOKIE: cookie}).json() == {
            "authenticated": False
        }
        assert both.legacy.get("/auth/check", cookies={COOKIE: cookie}).json() == {"authenticated": False}


def test_an_expired_cookie_is_refused_by_both(both: Both, monkeypatch: pytest.MonkeyPatch) -> None:
    login = both.services.client.post("/auth/login", json={"username": "user", "password": PASSWORD})
    token = login.json()["session"]["token"]
    secret = both.services.settings.secret_key.get_secret_value()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 2 * 24 * 3600)
    old = dump_session(
        {"_permanent": True, "user_id": 3, "username": "user", "session_token": token}, secret_key=secret
    )
    monkeypatch.undo()
    both.services.client.cookies.clear()
    assert both.services.client.get("/auth/check", cookies={COOKIE: old}).json() == {"authenticated": False}
    assert both.legacy.get("/auth/check", cookies={COOKIE: old}).json() == {"authenticated": False}


def test_an_expired_or_revoked_session_row_is_refused_by_services(both: Both) -> None:
    login = both.legacy.post("/auth/login", json={"username": "user", "password": PASSWORD})
    cookie = login.cookies[COOKIE]
    with both.services.engine.begin() as conn:
        conn.execute(update(UserSession).values(expires_at=UserSession.created_at))
    both.services.client.cookies.clear()
    assert both.services.client.get("/auth/me", cookies={COOKIE: cookie}).status_code == 401
    with both.services.engine.begin() as conn:
        conn.execute(update(UserSession).values(status=SessionStatus.REVOKED))
    assert both.services.client.get("/auth/session", cookies={COOKIE: cookie}).status_code == 401


def test_lockout_is_shared_by_both_apps(both: Both) -> None:
    for _ in range(3):
        both.legacy.post("/auth/login", json={"username": "user", "password": "wrong"})
    for _ in range(2):
        both.services.client.post("/auth/login", json={"username": "user", "password": "wrong"})
    locked = "Account is locked due to too many failed login attempts. Try again later."
    assert both.legacy.post("/auth/login", json={"username": "user", "password": PASSWORD}).json() == {
        "error": locked
    }
    assert both.services.client.post(
        "/auth/login", json={"username": "user", "password": PASSWORD}
    ).json() == {"error": locked}


def test_a_hash_services_write_is_verified_by_legacy(both: Both) -> None:
    new_password = "New-Passw0rd!"
    new_hash = _run(hash_password(new_password))
    assert check_password_hash(new_hash, new_password)
    with both.services.engine.begin() as conn:
        conn.execute(update(User).where(User.username == "user").values(password_hash=new_hash))
    login = both.legacy.post("/auth/login", json={"username": "user", "password": new_password})
    assert login.status_code == 200


def test_hashes_legacy_writes_are_verified_by_services() -> None:
    stored = legacy_hash("Legacy-Passw0rd!")
    assert _run(verify_password(stored, "Legacy-Passw0rd!"))
    assert not _run(verify_password(stored, "legacy-passw0rd!"))
    assert not _run(verify_password("not-a-werkzeug-hash", "x"))
    assert not _run(verify_password(None, "x"))


def test_services_login_records_the_session_row_legacy_reads(both: Both) -> None:
    both.services.client.post(
        "/auth/login", json={"username": "readonly", "password": PASSWORD}, headers={"User-Agent": "ua-9"}
    )
    rows = both.services.rows(select(UserSession.user_id, UserSession.status, UserSession.user_agent))
    assert [(r.user_id, r.status, r.user_agent) for r in rows] == [(4, SessionStatus.ACTIVE, "ua-9")]


def _run(coro: object) -> object:
    import asyncio

    return asyncio.run(coro)  # type: ignore[arg-type]
