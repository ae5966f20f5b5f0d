"""Issue 14's edges, byte for byte: repeated parameters and cookies, werkzeug routing, session refresh."""

from __future__ import annotations

from tests.contract.harness import Pair

JSON = {"Content-Type": "application/json"}


def test_the_first_of_repeated_parameters_wins(pair: Pair) -> None:
    # Legacy: force=false, so an artist with videos is not deleted (409); the last value would delete it.
    pair.check("DELETE", "/api/artists/5?force=false&force=true", as_user="admin", expect=409)
    pair.check("GET", "/api/artists/5", expect=200)
    pair.check("GET", "/api/videos/?limit=2&limit=50&sort=year&sort=title", expect=200)
    pair.check("GET", "/api/videos/search?q=zzzz&q=Running&limit=3", expect=200)
    pair.check("GET", "/api/playlists/1?include_entries=false&include_entries=true", as_user="admin")
    pair.same_rows()


def test_the_first_of_two_session_cookies_wins(pair: Pair) -> None:
    admin, readonly = pair.session_cookies["admin"], pair.session_cookies["readonly"]
    for first, second in ((admin, readonly), (readonly, admin), ("junk", admin), (admin, "junk")):
        cookie = f"mvidarr_session={first}; mvidarr_session={second}"
        pair.check("GET", "/auth/check", headers={"Cookie": cookie}, expect=200)
        pair.check("GET", "/admin/system/logs/recent", headers={"Cookie": cookie})


def test_werkzeug_routing_edges(pair: Pair) -> None:
    pair.check("GET", "/api//videos/?limit=1", expect=308)
    pair.check("GET", "/api//videos", expect=308)
    pair.check("POST", "/api//playlists/", expect=308)
    pair.check("OPTIONS", "/api//artists/1/settings", expect=308)  # OPTIONS is on every rule
    pair.check("OPTIONS", "/admin/api//users/1/role", expect=308)
    pair.check("GET", "/api/videos/\u0661\u0662", expect=200)  # Arabic-Indic "12"
    pair.check("GET", "/api/videos/\u00b2", expect=404)  # a superscript is no decimal digit
    pair.check("OPTIONS", "/api/videos/", expect=200)
    pair.check("OPTIONS", "/api/settings/theme", expect=200)
    pair.check("OPTIONS", "/auth/login", expect=200)
    pair.check("OPTIONS", "/api/health", expect=200)  # the rule itself, not the slash redirect
    pair.check("GET", "/auth/login", expect=405)
    pair.check("DELETE", "/admin/system/restart", expect=405)
    pair.check("GET", "/admin/nope", expect=404)
    pair.check("GET", "/auth/nope", expect=404)
    pair.check("PATCH", "/api/videos/1", expect=405)
    pair.check("GET", "/api/nope", expect=404)


def test_a_method_the_merged_path_does_not_serve_is_405(pair: Pair) -> None:
    """Werkzeug merges repeated slashes before matching: when a rule takes the merged path but
    not the method (and no redirect serves it), legacy answers 405, not 404."""
    for method, path in (
        ("GET", "/api/videos/1//status"),
        ("HEAD", "/api//videos/1/status"),
        ("POST", "/api/videos//1"),
        ("DELETE", "/api/videos//search"),
        ("GET", "/api/artists/1//settings"),
        ("PUT", "/api/playlists/1//videos"),
        ("GET", "/api/playlists/1/videos//reorder"),
        ("PATCH", "/api//playlists/"),
        ("PUT", "/api/artists//"),
        ("POST", "/api/settings//theme"),
        ("PUT", "/auth//check"),  # outside /api: werkzeug's HTML page, with its Allow
    ):
        answer = pair.check(method, path, as_user="admin", expect=405)
        assert "OPTIONS" in answer.headers["allow"], (method, path)
    pair.check("GET", "/api/videos/1//nope", as_user="admin", expect=404)  # no rule takes it merged
    pair.check("OPTIONS", "/api/videos/1//status", as_user="admin", expect=308)  # every rule has OPTIONS


def test_the_permanent_session_is_refreshed_and_varies_on_cookie(pair: Pair) -> None:
    for path in (
        "/api/videos/?limit=1",
        "/api/nope",
        "/auth/check",
        "/api/health",
        "/admin/system/logs/recent",
    ):
        answer = pair.check("GET", path, as_user="manager")
        assert "mvidarr_session=" in answer.headers.get("set-cookie", ""), path
        assert answer.headers.get("vary") == "Cookie", path
    anonymous = pair.check("GET", "/auth/check", expect=200)
    assert (anonymous.headers.get("vary"), anonymous.headers.get("set-cookie")) == ("Cookie", None)
    plain = pair.check("GET", "/api/videos/?limit=1", expect=200)
    assert "vary" not in plain.headers


def test_the_login_guard_comes_before_routing_misses(pair: Pair) -> None:
    pair.check(
        "PUT", "/api/settings/require_authentication", as_user="admin", json={"value": "true"}, expect=200
    )
    try:
        for method, path in (
            ("GET", "/api/nope"),
            ("GET", "/api//videos/"),
            ("GET", "/api/videos"),
            ("OPTIONS", "/api/videos/"),
            ("PATCH", "/api/videos/1"),
            ("GET", "/api/videos/abc"),
        ):
            pair.check(method, path, expect=401)
        pair.check("GET", "/api/health/status", expect=200)
        pair.check("GET", "/api/healthz", expect=404)
        pair.check("GET", "/api/nope", as_user="readonly", expect=404)
    finally:
        pair.check("PUT", "/api/settings/require_authentication", as_user="admin", json={"value": "false"})
