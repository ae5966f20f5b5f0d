"""Issue 15, finding by finding, tried as an attacker would: against services directly and
through the gateway, on SQLite and MariaDB (`stack` is parametrized over both).

Each test is named for the hole it pins; each failed on the main branch before the fix.
"""

from __future__ import annotations

import concurrent.futures
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jose import jwt

from services.auth.flask_session import dump_session
from services.auth.tokens import JwtCodec
from tests.services._security_support import COOKIE, PASSWORD, TARGETS, Stack, serve_stack, stack_fixture
from tests.support.redis import redis_server

__all__ = ["stack_fixture"]  # fixture used by name

AUTH_REQUIRED = {"error": "Authentication required", "code": "AUTH_REQUIRED"}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _message(body: dict[str, Any]) -> Any:
    error = body["error"]
    return (error["code"], error["message"]) if isinstance(error, dict) else error


def _own_playlist_one(stack: Stack, user_id: int = 1) -> None:
    stack.execute("UPDATE playlists SET user_id = :u, is_public = 0, is_featured = 0 WHERE id = 1", u=user_id)


# --- 1. well-known secrets --------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_a_token_signed_with_the_cookie_key_is_refused(
    database_url: str, tmp_path: Path, target: str
) -> None:
    """The JWT key is not the cookie key, even with JWT_SECRET unset: the cookie key forges no token."""
    with serve_stack(database_url, tmp_path, target, jwt_secret=None) as stack:
        _forge_with_the_cookie_key(stack)


def _forge_with_the_cookie_key(stack: Stack) -> None:
    now = datetime.now(UTC)
    claims = {
        "iss": stack.settings.jwt_issuer,
        "aud": stack.settings.jwt_audience,
        "sub": "1",
        "role": "ADMIN",
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": "forged",
    }
    forged = jwt.encode(claims, stack.settings.secret_key.get_secret_value(), algorithm="HS256")
    me = stack.api.get("/auth/me", headers=_bearer(forged))
    assert me.status_code == 401
    key = stack.api.post("/auth/api-keys", json={"name": "x", "role": "ADMIN"}, headers=_bearer(forged))
    assert key.status_code == 401


def test_a_cookie_naming_only_a_username_opens_no_playlists(stack: Stack) -> None:
    """Signed with the right key but naming no session: not a login (legacy opens admin's)."""
    _own_playlist_one(stack)
    forged = dump_session({"username": "admin"}, secret_key=stack.settings.secret_key.get_secret_value())
    listed = stack.api.get("/api/playlists/", cookies={COOKIE: forged})
    assert (listed.status_code, listed.json()) == (401, {"error": "User not found"})
    one = stack.api.get("/api/playlists/1", cookies={COOKIE: forged})
    assert one.status_code == 401


# --- 2. holes inherited from legacy -----------------------------------------------------------


def test_readonly_token_cannot_switch_off_the_login_guard(stack: Stack) -> None:
    token = stack.login_token("readonly")["access"]
    stack.api.cookies.clear()
    put = stack.api.put(
        "/api/settings/require_authentication", json={"value": "false"}, headers=_bearer(token)
    )
    assert put.status_code == 403
    assert stack.scalar("SELECT value FROM settings WHERE `key` = 'require_authentication'") == "false"


def test_anonymous_caller_cannot_overwrite_a_provider_secret(stack: Stack) -> None:
    stack.execute("UPDATE settings SET value = 'real-secret' WHERE `key` = 'spotify_client_secret'")
    put = stack.api.put("/api/settings/spotify_client_secret", json={"value": "attacker"})
    assert (put.status_code, put.json()) == (401, AUTH_REQUIRED)
    bulk = stack.api.put("/api/settings/bulk", json={"settings": {"spotify_client_secret": "attacker"}})
    assert bulk.status_code == 401
    assert stack.scalar("SELECT value FROM settings WHERE `key` = 'spotify_client_secret'") == "real-secret"


def test_provider_secrets_are_masked_on_read_and_kept_when_written_back(stack: Stack) -> None:
    stack.execute("UPDATE settings SET value = 'real-secret' WHERE `key` = 'spotify_client_secret'")
    listed = stack.api.get("/api/settings/").json()["settings"]
    masked = listed["spotify_client_secret"]["value"]
    assert masked != "real-secret" and "real-secret" not in stack.api.get("/api/settings/").text
    one = stack.api.get("/api/settings/spotify_client_secret").json()
    assert one["value"] == masked
    assert listed["spotify_client_id"]["value"] == stack.scalar(
        "SELECT value FROM settings WHERE `key` = 'spotify_client_id'"
    )
    admin = _bearer(stack.login_token("admin")["access"])
    back = stack.api.put("/api/settings/spotify_client_secret", json={"value": masked}, headers=admin)
    assert back.status_code == 200
    stack.api.put("/api/settings/bulk", json={"settings": {"spotify_client_secret": masked}}, headers=admin)
    assert stack.scalar("SELECT value FROM settings WHERE `key` = 'spotify_client_secret'") == "real-secret"
    new = stack.api.put("/api/settings/spotify_client_secret", json={"value": "rotated"}, headers=admin)
    assert new.status_code == 200
    assert stack.scalar("SELECT value FROM settings WHERE `key` = 'spotify_client_secret'") == "rotated"


def test_readonly_api_key_cannot_delete_a_video(stack: Stack) -> None:
    admin = _bearer(stack.login_token("admin")["access"])
    created = stack.api.post("/auth/api-keys", json={"name": "ro", "role": "READONLY"}, headers=admin)
    key = created.json()["key"]
    stack.api.cookies.clear()
    deleted = stack.api.delete("/api/videos/3", headers={"X-API-Key": key})
    assert deleted.status_code == 403
    assert stack.scalar("SELECT COUNT(*) FROM videos WHERE id = 3") == 1
    assert stack.api.get("/api/videos/3", headers={"X-API-Key": key}).status_code == 200


# --- 3. acting as the wrong user --------------------------------------------------------------


def test_revoked_admin_cookie_beside_a_readonly_token_touches_nothing_of_admins(stack: Stack) -> None:
    _own_playlist_one(stack)
    stack.execute("UPDATE user_sessions SET status = 'REVOKED' WHERE session_token = 'token-admin'")
    token = stack.login_token("readonly")["access"]
    stack.api.cookies.clear()
    cookies = {COOKIE: stack.cookie("admin")}
    listed = stack.api.get("/api/playlists/", cookies=cookies, headers=_bearer(token))
    assert listed.status_code == 200
    assert 1 not in [p["id"] for p in listed.json()["playlists"]]  # admin's private playlist
    assert all(p["user_id"] == 4 or p["is_public"] for p in listed.json()["playlists"])
    deleted = stack.api.delete("/api/playlists/1", cookies=cookies, headers=_bearer(token))
    assert deleted.status_code in (403, 404)
    assert stack.scalar("SELECT COUNT(*) FROM playlists WHERE id = 1") == 1


def test_credentials_naming_different_users_are_refused(stack: Stack) -> None:
    _own_playlist_one(stack)
    token = stack.login_token("readonly")["access"]
    stack.api.cookies.clear()
    cookies = {COOKIE: stack.cookie("admin")}
    for method, path in (("GET", "/auth/me"), ("GET", "/api/playlists/"), ("DELETE", "/api/playlists/1")):
        answer = stack.api.request(method, path, cookies=cookies, headers=_bearer(token))
        assert answer.status_code == 401, (method, path, answer.text)
    assert stack.api.get("/auth/check", cookies=cookies, headers=_bearer(token)).json() == {
        "authenticated": False
    }
    assert stack.scalar("SELECT COUNT(*) FROM playlists WHERE id = 1") == 1


def test_two_credentials_of_one_user_act_with_the_lower_role(stack: Stack) -> None:
    admin = _bearer(stack.login_token("admin")["access"])
    key = stack.api.post("/auth/api-keys", json={"name": "ro", "role": "READONLY"}, headers=admin).json()[
        "key"
    ]
    stack.api.cookies.clear()
    me = stack.api.get("/auth/me", cookies={COOKIE: stack.cookie("admin")}, headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["role"] == "READONLY"


@pytest.mark.parametrize(
    "stray",
    [
        {"Authorization": "Bearer x"},
        {"Authorization": "Bearer"},
        {"X-API-Key": "x"},
        {"X-API-Key": ""},
    ],
    ids=["bearer-x", "bearer-empty", "api-key-x", "api-key-empty"],
)
def test_a_stray_credential_beside_a_valid_cookie_is_ignored_as_legacy_does(
    stack: Stack, stray: dict[str, str]
) -> None:
    cookies = {COOKIE: stack.cookie("admin")}
    check = stack.api.get("/auth/check", cookies=cookies, headers=stray).json()
    assert check["authenticated"] is True and check["user"]["username"] == "admin"
    assert stack.api.get("/admin/system/logs/recent", cookies=cookies, headers=stray).status_code != 401
    me = stack.api.get("/auth/me", cookies=cookies, headers=stray).json()
    assert (me["auth"], me["role"]) == ("session", "ADMIN")
    # The same request to legacy: the same answer.
    assert stack.legacy.get("/auth/check", cookies=cookies, headers=stray).json() == check
    logout = stack.api.post("/auth/logout", cookies=cookies, headers=stray)
    assert logout.status_code == 200
    assert stack.scalar("SELECT status FROM user_sessions WHERE session_token = 'token-admin'") == "REVOKED"


# --- 4. logout ends the login -----------------------------------------------------------------


def _token_then(stack: Stack) -> tuple[str, str, str]:
    login = stack.login_token("user")
    stack.api.cookies.clear()
    return login["access"], login["cookies"][COOKIE], login["cookies"][stack.settings.refresh_cookie_name]


def _dead(stack: Stack, access: str, refresh: str) -> None:
    with stack.fresh() as client:
        assert client.get("/auth/me", headers=_bearer(access)).status_code == 401
        again = client.post("/auth/refresh", cookies={stack.settings.refresh_cookie_name: refresh})
        assert again.status_code == 401


def test_legacy_logout_ends_the_access_and_refresh_tokens(stack: Stack) -> None:
    access, cookie, refresh = _token_then(stack)
    assert stack.api.get("/auth/me", headers=_bearer(access)).status_code == 200
    assert stack.legacy.post("/auth/logout", cookies={COOKIE: cookie}).status_code == 200
    _dead(stack, access, refresh)


def test_cookie_logout_after_session_exchange_ends_both_tokens(stack: Stack) -> None:
    cookies = {COOKIE: stack.cookie("manager")}
    exchanged = stack.api.post("/auth/session-exchange", cookies=cookies)
    assert exchanged.status_code == 200
    access = exchanged.json()["access_token"]
    refresh = exchanged.cookies[stack.settings.refresh_cookie_name]
    stack.api.cookies.clear()
    assert stack.legacy.post("/auth/logout", cookies=cookies).status_code == 200
    _dead(stack, access, refresh)


def test_refresh_token_reuse_also_ends_the_legacy_session(stack: Stack) -> None:
    access, cookie, refresh = _token_then(stack)
    name = stack.settings.refresh_cookie_name
    with stack.fresh() as client:
        assert client.post("/auth/refresh", cookies={name: refresh}).status_code == 200
    with stack.fresh() as client:
        assert client.post("/auth/refresh", cookies={name: refresh}).status_code == 401
    assert stack.legacy.get("/auth/check", cookies={COOKIE: cookie}).json() == {"authenticated": False}
    assert stack.api.get("/auth/me", headers=_bearer(access)).status_code == 401


def test_bearer_only_logout_ends_the_legacy_session(stack: Stack) -> None:
    access, cookie, refresh = _token_then(stack)
    assert stack.api.post("/auth/logout", headers=_bearer(access)).status_code == 200
    assert stack.legacy.get("/auth/check", cookies={COOKIE: cookie}).json() == {"authenticated": False}
    _dead(stack, access, refresh)


# --- 5. throttling that races -----------------------------------------------------------------


def _burst(stack: Stack, path: str, bodies: list[dict[str, str]]) -> list[Any]:
    def send(body: dict[str, str]) -> Any:
        with stack.fresh() as client:
            return client.post(path, json=body)

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(send, bodies))


def test_concurrent_token_logins_from_one_address_check_at_most_the_limit(stack: Stack) -> None:
    limit = stack.settings.login_rate_limit_attempts
    answers = _burst(stack, "/auth/token", [{"username": f"nobody{i}", "password": "x"} for i in range(40)])
    statuses = [a.status_code for a in answers]
    # Reserve-then-decide errs on the safe side: racers still in flight count against each other,
    # so a burst may check fewer than the limit, never more.
    assert 1 <= statuses.count(401) <= limit, statuses
    assert statuses.count(401) + statuses.count(429) == 40, statuses
    assert all(a.headers.get("retry-after", "").isdigit() for a in answers if a.status_code == 429)


def test_a_burst_against_one_account_checks_at_most_five_passwords(stack: Stack) -> None:
    bodies = [{"username": "user", "password": f"wrong{i}"} for i in range(24)]
    answers = _burst(stack, "/auth/login", bodies)
    messages = [a.json()["error"] for a in answers]
    assert all(a.status_code == 401 for a in answers)
    assert messages.count("Invalid username or password") == 4, messages
    assert stack.scalar("SELECT failed_login_attempts FROM users WHERE username = 'user'") >= 5
    assert stack.scalar("SELECT locked_until FROM users WHERE username = 'user'") is not None
    right = stack.api.post("/auth/login", json={"username": "user", "password": PASSWORD})
    assert right.status_code == 401 and "locked" in right.json()["error"]


# --- 6. smaller -------------------------------------------------------------------------------


def test_a_wrong_password_on_a_disabled_account_does_not_reveal_it(stack: Stack) -> None:
    stack.execute("UPDATE users SET is_active = 0 WHERE username = 'user'")
    for path in ("/auth/login", "/auth/token"):
        wrong = stack.api.post(path, json={"username": "user", "password": "nope"})
        unknown = stack.api.post(path, json={"username": "nobody-here", "password": "nope"})
        assert wrong.status_code == unknown.status_code == 401
        assert _message(wrong.json()) == _message(unknown.json()), path


def test_bad_passwords_on_the_token_route_never_lock_the_account(stack: Stack) -> None:
    for i in range(12):
        stack.api.post("/auth/token", json={"username": "admin", "password": f"bad{i}"})
    assert stack.scalar("SELECT locked_until FROM users WHERE username = 'admin'") is None
    delayed = stack.api.post("/auth/token", json={"username": "admin", "password": "bad"})
    assert delayed.status_code == 429 and int(delayed.headers["retry-after"]) >= 1
    assert delayed.json()["error"]["message"] == "Too many login attempts. Try again later."
    # The owner still gets in through the legacy login, which keeps legacy's own rule.
    with stack.fresh() as client:
        assert client.post("/auth/login", json={"username": "admin", "password": PASSWORD}).status_code == 200


def test_a_token_issued_in_the_future_is_refused(stack: Stack) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    codec = JwtCodec(stack.settings)
    login = stack.login_token("user")
    stack.api.cookies.clear()
    good = jwt.get_unverified_claims(login["access"])
    claims = {**good, "iat": int(later.timestamp())}
    future = jwt.encode(claims, codec._signing_key, algorithm=stack.settings.jwt_algorithm)
    assert stack.api.get("/auth/me", headers=_bearer(login["access"])).status_code == 200
    assert stack.api.get("/auth/me", headers=_bearer(future)).status_code == 401


def test_answers_carrying_a_credential_are_never_stored(stack: Stack) -> None:
    login = stack.api.post("/auth/login", json={"username": "user", "password": PASSWORD})
    assert login.status_code == 200 and login.headers["cache-control"] == "no-store"
    stack.api.cookies.clear()
    token = stack.api.post("/auth/token", json={"username": "admin", "password": PASSWORD})
    assert token.headers["cache-control"] == "no-store"
    refresh = token.cookies[stack.settings.refresh_cookie_name]
    stack.api.cookies.clear()
    with stack.fresh() as client:
        rotated = client.post("/auth/refresh", cookies={stack.settings.refresh_cookie_name: refresh})
        assert rotated.headers["cache-control"] == "no-store"
    exchanged = stack.api.post("/auth/session-exchange", cookies={COOKIE: stack.cookie("manager")})
    assert exchanged.headers["cache-control"] == "no-store"
    stack.api.cookies.clear()
    key = stack.api.post(
        "/auth/api-keys", json={"name": "k", "role": "USER"}, headers=_bearer(token.json()["access_token"])
    )
    assert key.status_code == 201 and key.headers["cache-control"] == "no-store"
    # Answers without a credential keep legacy's caching headers (none).
    assert "cache-control" not in stack.api.get("/api/videos/?limit=1").headers


# --- the same holes, through the gateway as a separate program ---------------------------------

PROCESS_CHECKS = {
    "readonly-settings-write": test_readonly_token_cannot_switch_off_the_login_guard,
    "readonly-key-delete": test_readonly_api_key_cannot_delete_a_video,
    "wrong-user": test_revoked_admin_cookie_beside_a_readonly_token_touches_nothing_of_admins,
    "two-users": test_credentials_naming_different_users_are_refused,
    "legacy-logout": test_legacy_logout_ends_the_access_and_refresh_tokens,
    "future-iat": test_a_token_issued_in_the_future_is_refused,
    "stray-bearer": lambda stack: test_a_stray_credential_beside_a_valid_cookie_is_ignored_as_legacy_does(
        stack, {"Authorization": "Bearer x"}
    ),
}


@pytest.mark.parametrize("check", sorted(PROCESS_CHECKS))
def test_the_findings_hold_through_a_gateway_process(database_url: str, tmp_path: Path, check: str) -> None:
    with serve_stack(database_url, tmp_path, "process") as stack:
        PROCESS_CHECKS[check](stack)


@pytest.mark.parametrize("target", ["direct"])
def test_concurrent_token_logins_check_at_most_the_limit_with_redis(
    database_url: str, tmp_path: Path, target: str
) -> None:
    """The same burst with the limiter in Redis (one MULTI per reservation)."""
    with (
        redis_server(tmp_path / "redis") as redis_url,
        serve_stack(database_url, tmp_path, target, redis_url=redis_url) as stack,
    ):
        test_concurrent_token_logins_from_one_address_check_at_most_the_limit(stack)
        assert stack.scalar("SELECT COUNT(*) FROM auth_login_failures") == 0  # Redis held every attempt
