"""Legacy's validation, kept: what legacy stores services store; what crashes legacy is a 400.

Legacy copies request values straight into the database: SQLite keeps a word or a float in an
INTEGER column, MariaDB refuses a word (legacy: 500 with the exception text). Values no driver
can bind (an object for a URL, an integer past 64 bits) crash legacy on both databases: those
are refused up front with a 400 (differences.yaml `no-exception-text-in-500`); here they are pinned.
"""

from __future__ import annotations

import httpx
import pytest

from tests.services._resource_support import live_session_cookie, seeded_sqlite, services_client


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        (
            "POST",
            "/api/videos/",
            {"title": "t", "artist_id": 1, "duration": {"s": 1}},
            "Invalid value for duration",
        ),
        ("POST", "/api/videos/", {"title": "t", "artist_id": 1, "year": 2**64}, "Invalid value for year"),
        (
            "POST",
            "/api/videos/",
            {"title": "t", "artist_id": 1, "youtube_id": ["x"]},
            "Invalid value for youtube_id",
        ),
        ("PUT", "/api/videos/1", {"thumbnail_url": {"a": 1}}, "Invalid value for thumbnail_url"),
        ("PUT", "/api/videos/1", {"year": -(2**63) - 1}, "Invalid value for year"),
        ("POST", "/api/artists/", {"name": "n", "folder_path": [1]}, "Invalid value for folder_path"),
        ("PUT", "/api/artists/1", {"spotify_id": {"x": 1}}, "Invalid value for spotify_id"),
        ("PUT", "/api/settings/x", {"value": 1, "description": {"d": 1}}, "Description must be a string"),
        ("PUT", "/api/settings/x", {"value": 1, "description": [1]}, "Description must be a string"),
    ],
)
def test_wrongly_typed_values_are_refused_with_the_legacy_error_shape(
    services_client: httpx.Client, seeded_sqlite: str, method: str, path: str, body: object, message: str
) -> None:
    # As an admin: settings writes need one (issue 15); the answer checked is the validation's.
    cookies = {"mvidarr_session": live_session_cookie(seeded_sqlite, "admin")}
    response = services_client.request(method, path, json=body, cookies=cookies)
    assert (response.status_code, response.json()) == (400, {"error": message})


def test_values_the_database_coerces_are_accepted_and_echoed_as_given(services_client: httpx.Client) -> None:
    response = services_client.put("/api/videos/1", json={"year": " 2001 ", "duration": 240.0, "quality": 5})
    assert response.status_code == 200
    assert (response.json()["year"], response.json()["duration"], response.json()["quality"]) == (
        " 2001 ",
        240.0,
        5,
    )
    stored = services_client.get("/api/videos/1").json()
    assert (stored["year"], stored["duration"], stored["quality"]) == (2001, 240, "5")


def test_values_legacy_stores_on_sqlite_are_stored_and_echoed_as_legacy_does(
    services_client: httpx.Client, seeded_sqlite: str
) -> None:
    body = {"year": 1999.5, "duration": "3:45", "quality": 1.5, "thumbnail_url": 7}
    response = services_client.put("/api/videos/2", json=body)
    assert response.status_code == 200
    assert {k: response.json()[k] for k in body} == body  # echoed as sent, as legacy echoes
    stored = services_client.get("/api/videos/2").json()
    assert (stored["year"], stored["duration"], stored["quality"], stored["thumbnail_url"]) == (
        1999.5,
        "3:45",
        "1.5",
        "7",
    )
    created = services_client.post("/api/videos/", json={"title": "t", "artist_id": 1, "year": "nineteen"})
    assert created.status_code == 201
    admin = {"mvidarr_session": live_session_cookie(seeded_sqlite, "admin")}  # settings writes need one
    setting = services_client.put("/api/settings/x", json={"value": 1, "description": 5}, cookies=admin)
    assert (setting.status_code, setting.json()["description"]) == (200, 5)
    assert services_client.get("/api/settings/x").json()["description"] == "5"


def test_fields_legacy_never_reads_are_ignored_whatever_their_type(services_client: httpx.Client) -> None:
    cookies = {"mvidarr_session": _cookie("admin")}
    artist = services_client.post(
        "/api/artists/", json={"name": "Unread", "spotify_id": {"x": 1}, "other": [1]}
    )
    assert artist.status_code == 201
    video = services_client.post("/api/videos/", json={"title": "t", "artist_id": 1, "nonsense": {"a": [1]}})
    assert video.status_code == 201
    assert cookies  # playlists need a session user; covered by the contract fuzzer


@pytest.mark.parametrize(
    "path",
    [
        "/api/videos/99999999999999999999",
        "/api/artists/99999999999999999999",
        "/api/playlists/99999999999999999999",
    ],
)
def test_ids_beyond_64_bits_are_not_found(
    services_client: httpx.Client, seeded_sqlite: str, path: str
) -> None:
    cookies = {"mvidarr_session": live_session_cookie(seeded_sqlite, "admin")}
    response = services_client.get(path, cookies=cookies)
    assert response.status_code == 404


def test_out_of_range_ids_in_bodies_name_no_row(services_client: httpx.Client, seeded_sqlite: str) -> None:
    """As legacy answers on MariaDB (on SQLite it answers 500): an id past 64 bits exists nowhere."""
    cookies = {"mvidarr_session": live_session_cookie(seeded_sqlite, "admin")}
    big = 2**70
    add = services_client.post("/api/playlists/1/videos", json={"video_ids": [big]}, cookies=cookies)
    assert (add.status_code, add.json()) == (404, {"error": f"Videos not found: [{big}]"})
    reorder = services_client.post(
        "/api/playlists/1/videos/reorder",
        json={"entry_orders": [{"id": big, "position": 1}]},
        cookies=cookies,
    )
    assert (reorder.status_code, reorder.json()) == (200, {"success": True, "updated_count": 0})
    gone = services_client.delete(f"/api/playlists/1/videos/{big}", cookies=cookies)
    assert (gone.status_code, gone.json()) == (404, {"error": "Playlist entry not found"})
    assert services_client.post("/api/videos/", json={"title": "t", "artist_id": big}).status_code == 404


def test_the_login_guard_follows_the_require_authentication_setting(
    services_client: httpx.Client, seeded_sqlite: str
) -> None:
    admin = {"mvidarr_session": live_session_cookie(seeded_sqlite, "admin")}
    put = services_client.put("/api/settings/require_authentication", json={"value": "true"}, cookies=admin)
    assert put.status_code == 200
    denied = services_client.get("/api/videos/?limit=1")
    assert (denied.status_code, denied.json()) == (
        401,
        {"error": "Authentication required", "code": "AUTH_REQUIRED"},
    )
    assert services_client.get("/healthz").status_code == 200
    # A cookie naming a user without a live session row is not a login (legacy checks the row).
    assert (
        services_client.get("/api/videos/?limit=1", cookies={"mvidarr_session": _cookie("admin")}).status_code
        == 401
    )


def _cookie(username: str, token: str = "none") -> str:
    from services.auth.flask_session import dump_session
    from services.settings import DEFAULT_SECRET_KEY

    users = {"admin": 1, "manager": 2, "user": 3, "readonly": 4}
    return dump_session(
        {"user_id": users[username], "username": username, "session_token": token},
        secret_key=DEFAULT_SECRET_KEY,
    )


__all__ = ["seeded_sqlite", "services_client"]
