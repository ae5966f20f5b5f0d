from __future__ import annotations

import pytest
from flask import Flask, g, jsonify

from legacy_flask.auth.decorators import admin_required, login_required, manager_required, role_required
from legacy_flask.models import UserRole
from tests.legacy.conftest import sqlite_only

pytestmark = sqlite_only


@pytest.fixture
def guarded(app: Flask) -> Flask:
    """Extra routes on the app under test, one per decorator."""

    @app.route("/t/login")
    @login_required
    def needs_login():
        return jsonify({"user": g.current_user.username})

    @app.route("/t/user")
    @role_required(UserRole.USER)
    def needs_user():
        return jsonify({"ok": True})

    @app.route("/t/manager")
    @manager_required
    def needs_manager():
        return jsonify({"ok": True})

    @app.route("/t/admin")
    @admin_required
    def needs_admin():
        return jsonify({"ok": True})

    return app


@pytest.mark.parametrize("path", ["/t/login", "/t/user", "/t/manager", "/t/admin"])
def test_every_decorator_answers_401_without_login(guarded: Flask, path: str) -> None:
    response = guarded.test_client().get(path)

    assert response.status_code == 401
    assert response.get_json() == {"error": "Authentication required", "code": "AUTH_REQUIRED"}


def test_login_required_exposes_current_user(guarded: Flask, login) -> None:
    assert login("readonly").get("/t/login").get_json() == {"user": "readonly"}


@pytest.mark.parametrize(
    ("username", "path", "status"),
    [
        ("readonly", "/t/user", 403),
        ("user", "/t/user", 200),
        ("user", "/t/manager", 403),
        ("manager", "/t/manager", 200),
        ("manager", "/t/admin", 403),
        ("admin", "/t/admin", 200),
        ("admin", "/t/user", 200),
    ],
)
def test_role_hierarchy_decides_access(guarded: Flask, login, username: str, path: str, status: int) -> None:
    response = login(username).get(path)

    assert response.status_code == status
    if status == 403:
        assert response.get_json() == {
            "error": "Insufficient permissions",
            "code": "INSUFFICIENT_PERMISSIONS",
        }
