"""`/auth` login, logout, check, session: services answer exactly what legacy answers.

Login answers carry a fresh random session token on each side; the comparisons below put
both tokens aside (`_without_token`) and compare everything else, byte for byte after JSON
parsing. The cookie each side sets must log the client in on *both* sides.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.contract.harness import Answer, Pair

PASSWORD = "Figway-demo-1"
COOKIE = "mvidarr_session"


def _without_token(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("session"), dict) and "token" in body["session"]:
        token = body["session"]["token"]
        assert isinstance(token, str) and len(token) >= 40
        return {**body, "session": {**body["session"], "token": "<token>"}}
    return body


def _both(pair: Pair, method: str, path: str, **kw: Any) -> tuple[Answer, Answer]:
    return pair.send("legacy", method, path, **kw), pair.send("services", method, path, **kw)


def _same(old: Answer, new: Answer) -> None:
    assert (old.status, old.content_type) == (new.status, new.content_type), (old.body, new.body)
    assert _without_token(old.body) == _without_token(new.body)


def _login_cookie(client: httpx.Client, username: str) -> str:
    client.cookies.clear()
    response = client.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.cookies[COOKIE]


LOGIN_REQUESTS: list[dict[str, Any]] = [
    {"json": {"username": "admin", "password": PASSWORD}},
    {"json": {"username": "manager@figway.local", "password": PASSWORD}},
    {"data": {"username": "user", "password": PASSWORD}},
    {"json": {"username": "  readonly  ", "password": PASSWORD}},
    {"json": {"username": "admin", "password": "wrong"}},
    {"json": {"username": "nobody", "password": PASSWORD}},
    {"json": {"username": "admin"}},
    {"json": {"password": PASSWORD}},
    {"json": {"username": "", "password": ""}},
    {"json": ["admin", PASSWORD]},
    {"json": {"username": 0, "password": PASSWORD}},
    {"content": b"{broken", "headers": {"content-type": "application/json"}},
    {"content": b"username=admin&password=x", "headers": {"content-type": "application/json"}},
    {"data": {"username": "admin"}},
    {"data": {"username": "manager", "password": PASSWORD}, "files": {"avatar": ("a.txt", b"x")}},
    {"files": {"username": ("u.txt", b"admin"), "password": ("p.txt", PASSWORD.encode())}},
    {
        "content": f"username=user&username=admin&password={PASSWORD}".encode(),
        "headers": {"content-type": "application/x-www-form-urlencoded"},
    },
    {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}},
    {},
]


def test_login_answers_match_legacy(pair: Pair) -> None:
    # One pair for every case (seeding twins is the slow part); each case changes both alike.
    for request_kw in LOGIN_REQUESTS:
        old, new = _both(pair, "POST", "/auth/login", **request_kw)
        _same(old, new)


def _cookie_attributes(header: str) -> str:
    return header.split(";", 1)[1].rsplit("GMT", 1)[-1]  # without the value and the date


def test_login_sets_a_cookie_both_apps_accept(pair: Pair) -> None:
    headers = []
    for source in (pair.legacy, pair.services):
        response = source.post("/auth/login", json={"username": "manager", "password": PASSWORD})
        cookie = response.cookies[COOKIE]
        set_cookie = response.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "path=/" in set_cookie and "samesite=lax" in set_cookie
        assert "expires=" in set_cookie
        headers.append(_cookie_attributes(response.headers["set-cookie"]))
        source.cookies.clear()
        # Each side accepts its own cookie (twins: the session row lives on the issuer's database).
        assert source.get("/auth/check", cookies={COOKIE: cookie}).json()["authenticated"] is True
        source.cookies.clear()
    assert headers[0] == headers[1]


def test_check_and_session_match_legacy_for_every_seeded_user(pair: Pair) -> None:
    pair.check("GET", "/auth/check", expect=200)
    pair.check("GET", "/auth/session", expect=401)
    for user in ("admin", "manager", "user", "readonly"):
        pair.check("GET", "/auth/check", as_user=user, expect=200)
        pair.check("GET", "/auth/session", as_user=user, expect=200)


def test_session_after_login_matches_legacy(pair: Pair) -> None:
    legacy_cookie = _login_cookie(pair.legacy, "user")
    services_cookie = _login_cookie(pair.services, "user")
    pair.legacy.cookies.clear()
    pair.services.cookies.clear()
    old = pair.legacy.get("/auth/session", cookies={COOKIE: legacy_cookie})
    new = pair.services.get("/auth/session", cookies={COOKIE: services_cookie})
    assert old.status_code == new.status_code == 200
    from tests.contract.harness import _normalize

    assert _normalize(old.json()) == _normalize(new.json())


def test_logout_matches_legacy(pair: Pair) -> None:
    pair.check("POST", "/auth/logout", expect=401)
    legacy_cookie = _login_cookie(pair.legacy, "admin")
    services_cookie = _login_cookie(pair.services, "admin")
    cleared = []
    for client, cookie in ((pair.legacy, legacy_cookie), (pair.services, services_cookie)):
        client.cookies.clear()
        out = client.post("/auth/logout", cookies={COOKIE: cookie})
        assert (out.status_code, out.json()) == (200, {"success": True, "message": "Logout successful"})
        cleared.append(out.headers["set-cookie"])
        client.cookies.clear()
        # Replaying the cookie after logout is refused (the row is REVOKED).
        again = client.post("/auth/logout", cookies={COOKIE: cookie})
        assert (again.status_code, again.json()) == (
            401,
            {"error": "Authentication required", "code": "AUTH_REQUIRED"},
        )
        client.cookies.clear()
    assert cleared[0] == cleared[1]
    assert cleared[0].startswith(f"{COOKIE}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0;")


def test_lockout_sequence_matches_legacy(pair: Pair) -> None:
    for _ in range(6):
        _same(*_both(pair, "POST", "/auth/login", json={"username": "user", "password": "wrong"}))
    _same(*_both(pair, "POST", "/auth/login", json={"username": "user", "password": PASSWORD}))
    _same(*_both(pair, "POST", "/auth/login", json={"username": "admin", "password": PASSWORD}))


def test_login_through_one_app_works_on_the_other(shared_pair: Pair) -> None:
    """One database: a legacy login calls a migrated route, and the reverse."""
    legacy_cookie = _login_cookie(shared_pair.legacy, "manager")
    services_cookie = _login_cookie(shared_pair.services, "user")
    shared_pair.legacy.cookies.clear()
    shared_pair.services.cookies.clear()
    on_services = shared_pair.services.get("/auth/check", cookies={COOKIE: legacy_cookie}).json()
    on_legacy = shared_pair.legacy.get("/auth/check", cookies={COOKIE: services_cookie}).json()
    assert on_services["user"]["username"] == "manager" and on_legacy["user"]["username"] == "user"
    shared_pair.services.cookies.clear()
    playlists = shared_pair.services.get("/api/playlists/", cookies={COOKIE: legacy_cookie})
    assert playlists.status_code == 200
    assert shared_pair.legacy.get("/api/playlists/", cookies={COOKIE: services_cookie}).status_code == 200
