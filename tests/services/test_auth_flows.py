"""Token and session flows over a real socket, on SQLite and MariaDB."""

from __future__ import annotations

import json

import structlog
from jose import jwt
from sqlalchemy import select

from services.auth.models import AuditEntry, LoginFailure, RefreshToken
from services.models import SessionStatus, UserSession
from tests.services._auth_support import PASSWORD, Services, serve, services_fixture, users_db_fixture

__all__ = ["services_fixture", "users_db_fixture"]  # fixtures used by name


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _events(s: Services) -> list[str]:
    return [row.event for row in s.rows(select(AuditEntry.event).order_by(AuditEntry.id))]


def test_token_login_returns_access_token_and_httponly_refresh_cookie(services: Services) -> None:
    response = services.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert body["user"]["role"] == "USER" and "refresh_token" not in body
    assert response.headers["cache-control"] == "no-store"
    cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
    refresh = cookies["figway_refresh"].lower()
    assert "httponly" in refresh and "path=/auth" in refresh and "samesite=strict" in refresh
    assert "mvidarr_session" in cookies  # a legacy session is opened too
    stored = services.rows(select(RefreshToken.token_hash))
    presented = response.cookies["figway_refresh"]
    assert len(stored) == 1 and stored[0].token_hash != presented and len(stored[0].token_hash) == 64


def test_token_login_accepts_a_form_body(services: Services) -> None:
    response = services.client.post("/auth/token", data={"username": "manager", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["user"]["username"] == "manager"


def test_token_login_refusals_use_the_structured_error(services: Services) -> None:
    missing = services.client.post("/auth/token", json={"username": "user"})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing_credentials"
    wrong = services.client.post("/auth/token", json={"username": "user", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert wrong.json()["error"]["message"] == "Invalid username or password"
    assert "figway_refresh" not in wrong.cookies


def test_secure_refresh_cookie_by_default(users_db: str) -> None:
    with serve(users_db, refresh_cookie_secure=True) as s:
        response = s.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
        refresh = next(c for c in response.headers.get_list("set-cookie") if c.startswith("figway_refresh"))
        assert "secure" in refresh.lower()


def test_me_reports_the_caller_and_how_they_authenticated(services: Services) -> None:
    token = services.login_token("readonly")
    services.client.cookies.clear()
    me = services.client.get("/auth/me", headers=_bearer(token)).json()
    assert me["user"]["username"] == "readonly" and me["role"] == "READONLY" and me["auth"] == "jwt"
    assert me["permissions"] == {
        "can_admin": False,
        "can_modify": False,
        "can_delete": False,
        "can_manage_users": False,
    }
    anonymous = services.client.get("/auth/me")
    assert anonymous.status_code == 401
    assert set(anonymous.json()["error"]) == {"code", "message", "request_id"}


def test_refresh_rotates_the_token_and_issues_a_new_access_token(services: Services) -> None:
    services.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
    first = services.client.cookies["figway_refresh"]
    response = services.client.post("/auth/refresh")
    assert response.status_code == 200
    second = services.client.cookies["figway_refresh"]
    assert second != first
    me = services.client.get("/auth/me", headers=_bearer(response.json()["access_token"]))
    assert me.json()["user"]["username"] == "user"
    rows = services.rows(select(RefreshToken.family_id, RefreshToken.used_at).order_by(RefreshToken.id))
    assert len(rows) == 2 and rows[0].family_id == rows[1].family_id
    assert rows[0].used_at is not None and rows[1].used_at is None


def test_reused_refresh_token_revokes_the_whole_family(services: Services) -> None:
    login = services.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
    stolen = services.client.cookies["figway_refresh"]
    access = login.json()["access_token"]
    assert services.client.post("/auth/refresh").status_code == 200  # the legitimate client rotates
    legit = services.client.cookies["figway_refresh"]
    services.client.cookies.clear()
    replay = services.client.post("/auth/refresh", cookies={"figway_refresh": stolen})
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "invalid_refresh_token"
    services.client.cookies.clear()
    # Every member of the family is dead now, including the one the legitimate client holds...
    assert services.client.post("/auth/refresh", cookies={"figway_refresh": legit}).status_code == 401
    # ...and access tokens of that family stop working before they expire.
    services.client.cookies.clear()
    assert services.client.get("/auth/me", headers=_bearer(access)).status_code == 401
    revoked = services.rows(select(RefreshToken.revoked_at))
    assert revoked and all(r.revoked_at is not None for r in revoked)
    assert "refresh.reuse" in _events(services)


def test_refresh_without_or_with_unknown_cookie_is_refused(services: Services) -> None:
    assert services.client.post("/auth/refresh").status_code == 401
    response = services.client.post("/auth/refresh", cookies={"figway_refresh": "made-up"})
    assert response.status_code == 401


def test_expired_refresh_token_is_refused(users_db: str) -> None:
    with serve(users_db, refresh_token_ttl_seconds=60) as s:
        s.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
        with s.engine.begin() as conn:
            conn.execute(RefreshToken.__table__.update().values(expires_at=RefreshToken.issued_at))
        assert s.client.post("/auth/refresh").status_code == 401


def test_logout_with_a_token_revokes_its_family_and_the_token(services: Services) -> None:
    token = services.login_token("manager")
    response = services.client.post("/auth/logout", headers=_bearer(token))
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Logout successful"}
    assert services.client.post("/auth/refresh").status_code == 401
    services.client.cookies.clear()
    assert services.client.get("/auth/me", headers=_bearer(token)).status_code == 401
    assert "logout" in _events(services)


def test_logout_with_a_session_revokes_the_row_and_the_refresh_family(services: Services) -> None:
    services.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
    response = services.client.post("/auth/logout")
    assert response.status_code == 200
    assert any(
        c.startswith('mvidarr_session=""') or "Max-Age=0" in c
        for c in response.headers.get_list("set-cookie")
    )
    assert [r.status for r in services.rows(select(UserSession.status))] == [SessionStatus.REVOKED]
    assert all(r.revoked_at is not None for r in services.rows(select(RefreshToken.revoked_at)))


def test_logout_without_credentials_is_the_legacy_401(services: Services) -> None:
    response = services.client.post("/auth/logout")
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication required", "code": "AUTH_REQUIRED"}


def test_session_exchange_turns_a_legacy_session_into_tokens(services: Services) -> None:
    login = services.client.post("/auth/login", json={"username": "manager", "password": PASSWORD})
    assert login.status_code == 200
    exchanged = services.client.post("/auth/session-exchange")
    assert exchanged.status_code == 200
    token = exchanged.json()["access_token"]
    assert "figway_refresh" in exchanged.cookies
    services.client.cookies.clear()
    assert services.client.get("/auth/me", headers=_bearer(token)).json()["user"]["username"] == "manager"
    refused = services.client.post("/auth/session-exchange")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "auth_required"


def test_forged_tokens_are_rejected_by_the_server(services: Services) -> None:
    good = services.login_token("admin")
    claims = jwt.get_unverified_claims(good)
    forged = [
        jwt.encode(claims, "guessed-secret", algorithm="HS256"),
        jwt.encode({**claims, "aud": "other"}, services.settings.secret_key.get_secret_value(), "HS256"),
        jwt.encode({**claims, "exp": claims["iat"] - 100}, services.settings.secret_key.get_secret_value()),
        good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "not-a-jwt",
    ]
    services.client.cookies.clear()
    for token in forged:
        assert services.client.get("/auth/me", headers=_bearer(token)).status_code == 401, token


def test_deactivated_user_loses_token_access(services: Services) -> None:
    token = services.login_token("user")
    services.client.cookies.clear()
    services.set_user("user", is_active=False)
    assert services.client.get("/auth/me", headers=_bearer(token)).status_code == 401


def test_demoted_user_token_carries_the_lower_role(services: Services) -> None:
    token = services.login_token("manager")
    services.client.cookies.clear()
    from legacy_flask.models import UserRole

    services.set_user("manager", role=UserRole.READONLY)
    assert services.client.get("/auth/me", headers=_bearer(token)).json()["role"] == "READONLY"


def test_five_failures_lock_the_account_for_thirty_minutes(services: Services) -> None:
    """Legacy's rule, on the legacy-contract login (the token route delays instead)."""
    locked = {"error": "Account is locked due to too many failed login attempts. Try again later."}
    for _ in range(4):
        response = services.client.post("/auth/login", json={"username": "user", "password": "wrong"})
        assert (response.status_code, response.json()) == (401, {"error": "Invalid username or password"})
    fifth = services.client.post("/auth/login", json={"username": "user", "password": "wrong"})
    assert (fifth.status_code, fifth.json()) == (401, locked)
    right = services.client.post("/auth/login", json={"username": "user", "password": PASSWORD})
    assert (right.status_code, right.json()) == (401, locked)
    token = services.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
    assert token.status_code == 401 and token.json()["error"]["code"] == "invalid_credentials"
    row = services.user("user")
    assert row.failed_login_attempts == 5
    minutes = (row.locked_until - row.updated_at).total_seconds() / 60 if row.updated_at else 30
    assert 29 <= minutes <= 31
    assert "login.locked" in _events(services)


def test_brute_force_is_rate_limited_with_retry_after(users_db: str) -> None:
    with serve(users_db, login_rate_limit_attempts=3, login_rate_limit_window_seconds=600) as s:
        for _ in range(3):
            assert (
                s.client.post("/auth/token", json={"username": "ghost", "password": "x"}).status_code == 401
            )
        blocked = s.client.post("/auth/token", json={"username": "ghost", "password": "x"})
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["retry-after"]) <= 600
        assert blocked.json()["error"]["code"] == "rate_limited"
        # The legacy-contract endpoint keeps legacy's rules only: no per-name or per-address limit.
        legacy = s.client.post("/auth/login", json={"username": "ghost", "password": PASSWORD})
        assert (legacy.status_code, legacy.json()) == (401, {"error": "Invalid username or password"})
        # Failures are stored hashed: neither the name nor the address appears in the table.
        keys = [r.key_hash for r in s.rows(select(LoginFailure.key_hash))]
        assert keys and not any("ghost" in k or "127.0.0.1" in k for k in keys)
        assert "login.rate_limited" in _events(s)


def test_rate_limit_by_address_covers_many_usernames(users_db: str) -> None:
    with serve(users_db, login_rate_limit_attempts=3) as s:
        for name in ("a1", "a2", "a3"):
            s.client.post("/auth/token", json={"username": name, "password": "x"})
        assert s.client.post("/auth/token", json={"username": "a4", "password": "x"}).status_code == 429


def test_forwarded_address_is_trusted_only_from_configured_proxies(users_db: str) -> None:
    with serve(users_db, login_rate_limit_attempts=2) as s:
        # The test client is 127.0.0.1, a trusted proxy by default: each forwarded address counts alone.
        for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            headers = {"X-Forwarded-For": ip}
            s.client.post("/auth/token", json={"username": f"u{ip}", "password": "x"}, headers=headers)
        ok = s.client.post(
            "/auth/token",
            json={"username": "user", "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.9"},
        )
        assert ok.status_code == 200
        assert s.user("user").last_login_ip == "198.51.100.9"
    with serve(users_db, login_rate_limit_attempts=2, trusted_proxies=()) as s:
        # Untrusted peer: X-Forwarded-For is ignored, so rotating it does not escape the limit.
        for ip in ("203.0.113.1", "203.0.113.2"):
            s.client.post(
                "/auth/token", json={"username": "zz", "password": "x"}, headers={"X-Forwarded-For": ip}
            )
        blocked = s.client.post(
            "/auth/token",
            json={"username": "yy", "password": "x"},
            headers={"X-Forwarded-For": "203.0.113.3"},
        )
        assert blocked.status_code == 429


def test_audit_rows_record_who_what_and_where(services: Services) -> None:
    services.client.post(
        "/auth/token", json={"username": "user", "password": "bad"}, headers={"User-Agent": "ua/1"}
    )
    services.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
    services.client.post("/auth/logout")
    rows = services.rows(select(AuditEntry).order_by(AuditEntry.id))
    assert [r.event for r in rows] == ["login.failure", "login.success", "logout"]
    failure = rows[0]
    assert (failure.username, failure.ip_address, failure.user_agent) == ("user", "127.0.0.1", "ua/1")
    assert failure.detail["reason"] == "refused" and failure.user_id == 3
    assert all(r.at is not None for r in rows)


def test_no_password_token_or_key_reaches_a_log_line_or_the_audit_table(services: Services) -> None:
    secret_password = "Sup3r-secret-pw!"
    with structlog.testing.capture_logs() as logs:
        services.client.post("/auth/token", json={"username": "user", "password": secret_password})
        login = services.client.post("/auth/token", json={"username": "admin", "password": PASSWORD})
        access = login.json()["access_token"]
        refresh = services.client.cookies["figway_refresh"]
        session_cookie = services.client.cookies["mvidarr_session"]
        services.client.post("/auth/refresh")
        created = services.client.post(
            "/auth/api-keys", json={"name": "ci", "role": "USER"}, headers=_bearer(access)
        )
        key = created.json()["key"]
        services.client.get("/auth/me", headers={"X-API-Key": key})
        services.client.get("/auth/me", headers=_bearer(access + "x"))
        services.client.post("/auth/logout", headers=_bearer(access))
    assert logs, "auth actions log events"
    secrets = [secret_password, PASSWORD, access, refresh, session_cookie, key]
    dumped = json.dumps(logs, default=str)
    audit = json.dumps([tuple(r) for r in services.rows(select(AuditEntry))], default=str)
    for secret in secrets:
        assert secret not in dumped and secret not in audit
    assert {e["event"] for e in logs} >= {"auth.login.failure", "auth.login.success", "auth.api_key.created"}


def test_disabled_account_cannot_log_in(services: Services) -> None:
    services.set_user("user", is_active=False)
    response = services.client.post("/auth/login", json={"username": "user", "password": PASSWORD})
    assert (response.status_code, response.json()) == (401, {"error": "Account is disabled"})


def test_an_expired_lock_starts_a_fresh_count(services: Services) -> None:
    from datetime import datetime

    services.set_user("user", failed_login_attempts=5, locked_until=datetime(2020, 1, 1))
    wrong = services.client.post("/auth/login", json={"username": "user", "password": "nope"})
    assert wrong.json() == {"error": "Invalid username or password"}
    row = services.user("user")
    assert (row.failed_login_attempts, row.locked_until) == (1, None)


def test_refresh_for_a_deactivated_user_is_refused_and_revokes_the_family(services: Services) -> None:
    services.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
    services.set_user("user", is_active=False)
    assert services.client.post("/auth/refresh").status_code == 401
    assert all(r.revoked_at is not None for r in services.rows(select(RefreshToken.revoked_at)))


def test_an_enormous_username_is_refused_and_audited_truncated(services: Services) -> None:
    huge = "x" * 5000
    response = services.client.post("/auth/token", json={"username": huge, "password": "pw"})
    assert response.status_code == 401
    rows = services.rows(select(AuditEntry.username))
    assert rows[-1].username == huge[:120]


def test_concurrent_use_of_one_refresh_token_lets_at_most_one_through(services: Services) -> None:
    import concurrent.futures

    import httpx

    services.client.post("/auth/token", json={"username": "user", "password": PASSWORD})
    cookie = services.client.cookies["figway_refresh"]
    base = str(services.client.base_url)

    def use(_: int) -> int:
        with httpx.Client(base_url=base, timeout=30) as client:
            return client.post("/auth/refresh", cookies={"figway_refresh": cookie}).status_code

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(use, range(4)))
    assert statuses.count(200) <= 1 and set(statuses) <= {200, 401}
    # The losers count as reuse: the family is revoked, the winner's new token included.
    assert all(r.revoked_at is not None for r in services.rows(select(RefreshToken.revoked_at)))
