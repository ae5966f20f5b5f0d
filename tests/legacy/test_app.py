from __future__ import annotations

import json
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from legacy_flask.app import create_app
from legacy_flask.config import DEFAULT_SECRET_KEY, ROOT, load_config
from legacy_flask.settings_service import SettingsService
from tests.legacy.conftest import PASSWORD, sqlite_only
from tests.support.servers import wsgi_thread


def _enable_auth(client) -> None:
    # Written through this process's SettingsService, so its cache sees it at once.
    assert client.put("/api/settings/require_authentication", json={"value": "true"}).status_code == 200


def test_api_is_open_while_require_authentication_is_false(client) -> None:
    assert client.get("/api/videos/?limit=1").status_code == 200


def test_guard_answers_401_for_api_without_session_when_enabled(client) -> None:
    _enable_auth(client)

    response = client.get("/api/videos/?limit=1")

    assert response.status_code == 401
    assert response.get_json() == {"error": "Authentication required", "code": "AUTH_REQUIRED"}
    assert client.get("/api/artists/").status_code == 401
    assert client.put("/api/settings/require_authentication", json={"value": "false"}).status_code == 401


def test_guard_lets_logged_in_users_and_auth_routes_through(client, login) -> None:
    _enable_auth(client)

    assert client.get("/auth/check").status_code == 200
    assert login("readonly").get("/api/videos/?limit=1").status_code == 200


def test_guard_ignores_setting_written_elsewhere_until_cache_reload(client, db_session: Session) -> None:
    client.get("/api/videos/?limit=1")  # loads the per-process settings cache
    db_session.execute(text("UPDATE settings SET value = 'true' WHERE `key` = 'require_authentication'"))
    db_session.commit()

    assert client.get("/api/videos/?limit=1").status_code == 200  # the MVidarr cache wart

    SettingsService.reload_cache()
    assert client.get("/api/videos/?limit=1").status_code == 401


@sqlite_only
def test_collection_without_trailing_slash_redirects_308(client) -> None:
    response = client.get("/api/videos?limit=5")

    assert response.status_code == 308
    assert response.headers["Location"].endswith("/api/videos/?limit=5")


@sqlite_only
def test_unknown_api_route_is_json_404(client) -> None:
    response = client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.get_json() == {"error": "Not Found"}


@sqlite_only
def test_wrong_method_on_api_is_json_405(client) -> None:
    response = client.patch("/api/videos/1")

    assert response.status_code == 405
    assert response.get_json() == {"error": "Method Not Allowed"}


@sqlite_only
def test_unknown_non_api_route_is_flask_html_404(client) -> None:
    response = client.get("/nowhere")

    assert response.status_code == 404
    assert response.mimetype == "text/html"


@sqlite_only
def test_unexpected_exception_leaks_its_text_as_500(app: Flask) -> None:
    @app.route("/api/boom")
    def boom():
        raise RuntimeError("database exploded: secret detail")

    response = app.test_client().get("/api/boom")

    assert response.status_code == 500
    assert response.get_json() == {"error": "database exploded: secret detail"}


def test_config_defaults_and_relative_sqlite_path(monkeypatch) -> None:
    for name in ("DATABASE_URL", "MVIDARR_SECRET_KEY", "FIGWAY_DEMO_PASSWORD", "MUSICBRAINZ_API_URL"):
        monkeypatch.delenv(name, raising=False)
    config = load_config()
    assert config["DATABASE_URL"] == f"sqlite:///{ROOT / 'var' / 'figway.db'}"
    assert config["SECRET_KEY"] == DEFAULT_SECRET_KEY
    assert config["FIGWAY_DEMO_PASSWORD"] == "Figway-demo-1"
    assert config["MUSICBRAINZ_API_URL"] == "https://musicbrainz.org/ws/2"

    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/other.db")
    monkeypatch.setenv("MVIDARR_SECRET_KEY", "s3cret")
    config = load_config()
    assert config["DATABASE_URL"] == f"sqlite:///{ROOT / 'var' / 'other.db'}"
    assert config["SECRET_KEY"] == "s3cret"


def test_app_serves_login_and_api_over_a_real_socket(seeded_url: str) -> None:
    app = create_app({"DATABASE_URL": seeded_url, "SECRET_KEY": "socket-test"})
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with wsgi_thread(app) as server:
        request = urllib.request.Request(
            f"{server.url}/auth/login",
            data=json.dumps({"username": "user", "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with opener.open(request, timeout=10) as response:
            assert response.status == 200
            assert "mvidarr_session=" in response.headers["Set-Cookie"]
        with opener.open(f"{server.url}/auth/check", timeout=10) as response:
            assert json.load(response)["user"]["username"] == "user"
        with opener.open(f"{server.url}/api/videos?limit=3", timeout=10) as response:  # follows the 308
            body = json.load(response)
            assert response.url.endswith("/api/videos/?limit=3")
            assert body["count"] == 3 and body["limit"] == 3
        try:
            opener.open(f"{server.url}/api/videos/999999", timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
            assert json.load(exc) == {"error": "Video not found"}
        else:
            raise AssertionError("expected 404")
