"""`/admin` JSON endpoints: admin only, restart through an allow-listed command, log tail, users."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from legacy_flask.app import create_app
from legacy_flask.extensions import ENGINE_KEY
from legacy_flask.models import User, UserRole
from legacy_flask.settings_service import SettingsService

Login = Callable[[str], FlaskClient]

ENDPOINTS = [
    ("GET", "/admin/system/status/service"),
    ("GET", "/admin/system/logs/recent"),
    ("POST", "/admin/system/restart"),
    ("POST", "/admin/api/users/3/role"),
    ("POST", "/admin/api/users/3/toggle-active"),
]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "restarted"


@pytest.fixture
def marker_command(marker: Path) -> list[str]:
    return [sys.executable, "-c", f"open({str(marker)!r}, 'w').write('restarted')"]


@pytest.fixture
def app(seeded_url: str, tmp_path: Path, marker_command: list[str]) -> Iterator[Flask]:
    """The conftest app plus a log file in tmp_path, no restart delay and one extra allowed command."""
    application = create_app(
        {
            "DATABASE_URL": seeded_url,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "MVIDARR_LOG_FILE": str(tmp_path / "logs" / "legacy.log"),
            "RESTART_DELAY": 0,
            "MVIDARR_RESTART_ALLOWLIST": json.dumps([marker_command]),
        }
    )
    yield application
    application.extensions[ENGINE_KEY].dispose()


@pytest.fixture
def admin(login: Login) -> FlaskClient:
    return login("admin")


def user_id(db_session: Session, username: str) -> int:
    user = db_session.query(User).filter_by(username=username).one()
    return int(user.id)


def fresh_user(db_session: Session, username: str) -> User:
    db_session.expire_all()
    return db_session.query(User).filter_by(username=username).one()


# ------------------------------------------------------------------- access


def test_admin_endpoints_need_a_login(client: FlaskClient) -> None:
    for method, path in ENDPOINTS:
        response = client.open(path, method=method)
        assert response.status_code == 401, path
        assert response.get_json() == {"error": "Authentication required", "code": "AUTH_REQUIRED"}


@pytest.mark.parametrize("username", ["manager", "user", "readonly"])
def test_admin_endpoints_refuse_non_admins(login: Login, username: str, marker: Path) -> None:
    client = login(username)
    for method, path in ENDPOINTS:
        response = client.open(path, method=method, data={"role": "ADMIN"})
        assert response.status_code == 403, path
        assert response.get_json()["code"] == "INSUFFICIENT_PERMISSIONS"


def test_non_admins_change_nothing(login: Login, db_session: Session) -> None:
    login("manager").post("/admin/api/users/4/role", data={"role": "ADMIN"})
    assert fresh_user(db_session, "readonly").role == UserRole.READONLY


# ------------------------------------------------------------ service status


def test_service_status_reports_process_and_restart_availability(admin: FlaskClient) -> None:
    response = admin.get("/admin/system/status/service")
    body = response.get_json()
    assert response.status_code == 200
    assert body["pid"] == os.getpid()
    assert body["uptime"] >= 0
    assert body["service_type"] in {"systemd", "script", "process"}
    assert body["restart_available"] is True


def test_service_status_says_restart_unavailable_for_a_command_off_the_list(admin: FlaskClient) -> None:
    SettingsService.set("restart_command", json.dumps(["rm", "-rf", "/"]))
    assert admin.get("/admin/system/status/service").get_json()["restart_available"] is False


# --------------------------------------------------------------------- logs


def test_recent_logs_answer_the_last_50_lines_of_the_app_log(
    app: Flask, admin: FlaskClient, tmp_path: Path
) -> None:
    log_file = tmp_path / "logs" / "legacy.log"
    with log_file.open("a") as fh:
        fh.writelines(f"line {i}\n" for i in range(120))
    response = admin.get("/admin/system/logs/recent")
    body = response.get_json()
    assert response.status_code == 200
    assert body["log_file"] == str(log_file)
    assert body["entry_count"] == 50
    assert body["log_entries"][-1] == "line 119"
    assert body["log_entries"][0] == "line 70"


def test_recent_logs_contain_what_the_app_logged(admin: FlaskClient, db_session: Session) -> None:
    admin.post(f"/admin/api/users/{user_id(db_session, 'user')}/role", data={"role": "manager"})
    entries = admin.get("/admin/system/logs/recent").get_json()["log_entries"]
    assert any("admin.role_changed user=user from=USER to=MANAGER by=admin" in line for line in entries)
    assert not any("Figway-demo-1" in line for line in entries)


def test_recent_logs_answer_404_when_the_log_file_is_gone(admin: FlaskClient, tmp_path: Path) -> None:
    (tmp_path / "logs" / "legacy.log").unlink()
    response = admin.get("/admin/system/logs/recent")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Log file not found"


# ------------------------------------------------------------------ restart


def test_restart_answers_at_once_and_runs_the_configured_command(
    admin: FlaskClient, marker: Path, marker_command: list[str]
) -> None:
    SettingsService.set("restart_command", json.dumps(marker_command))
    response = admin.post("/admin/system/restart")
    assert response.status_code == 200
    assert response.get_json() == {
        "success": True,
        "message": "Application restart initiated",
        "estimated_downtime": "10-30 seconds",
    }
    deadline = time.monotonic() + 20
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.read_text() == "restarted"


def test_restart_with_the_default_noop_command_succeeds(admin: FlaskClient, tmp_path: Path) -> None:
    response = admin.post("/admin/system/restart")
    assert response.status_code == 200
    assert response.get_json()["success"] is True
    assert "admin.restart requested by admin: true" in (tmp_path / "logs" / "legacy.log").read_text()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (json.dumps(["sh", "-c", "reboot"]), "Restart command is not in the allow-list"),
        (
            "systemctl restart mvidarr",
            "Restart command is not configured (setting restart_command must be a JSON list)",
        ),
        (json.dumps([]), "Restart command is not configured (setting restart_command must be a JSON list)"),
        (
            json.dumps(["true", 1]),
            "Restart command is not configured (setting restart_command must be a JSON list)",
        ),
    ],
)
def test_restart_refuses_commands_off_the_allow_list(admin: FlaskClient, value: str, error: str) -> None:
    SettingsService.set("restart_command", value)
    response = admin.post("/admin/system/restart")
    assert response.status_code == 400
    assert response.get_json() == {"success": False, "error": error}


def test_restart_failure_in_the_background_is_logged(
    admin: FlaskClient, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    SettingsService.set("restart_command", json.dumps(["systemctl", "restart", "mvidarr"]))
    assert admin.post("/admin/system/restart").status_code == 200
    log_file = tmp_path / "logs" / "legacy.log"
    deadline = time.monotonic() + 20
    while "admin.restart command failed" not in log_file.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (
        "admin.restart command failed: systemctl restart mvidarr: systemctl: command not found"
        in log_file.read_text()
    )


# -------------------------------------------------------------------- users


@pytest.mark.parametrize("given", ["manager", "MANAGER", " Manager "])
def test_role_change_uppercases_the_form_field(admin: FlaskClient, db_session: Session, given: str) -> None:
    target = user_id(db_session, "user")
    response = admin.post(f"/admin/api/users/{target}/role", data={"role": given})
    assert response.status_code == 200
    assert response.get_json() == {"success": True, "message": "User user role changed to MANAGER"}
    assert fresh_user(db_session, "user").role == UserRole.MANAGER


@pytest.mark.parametrize("form", [{"role": "superuser"}, {"role": ""}, {}])
def test_role_change_rejects_an_invalid_role(
    admin: FlaskClient, db_session: Session, form: dict[str, str]
) -> None:
    response = admin.post(f"/admin/api/users/{user_id(db_session, 'user')}/role", data=form)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Invalid role"}
    assert fresh_user(db_session, "user").role == UserRole.USER


def test_role_change_of_an_unknown_user_is_404(admin: FlaskClient) -> None:
    response = admin.post("/admin/api/users/9999/role", data={"role": "USER"})
    assert response.status_code == 404
    assert response.get_json() == {"error": "User not found"}


def test_toggle_active_deactivates_then_reactivates(admin: FlaskClient, db_session: Session) -> None:
    target = user_id(db_session, "readonly")
    first = admin.post(f"/admin/api/users/{target}/toggle-active")
    assert first.status_code == 200
    assert first.get_json() == {
        "success": True,
        "message": "User readonly deactivated successfully",
        "action": "deactivated",
        "new_status": False,
    }
    assert fresh_user(db_session, "readonly").is_active is False
    second = admin.post(f"/admin/api/users/{target}/toggle-active").get_json()
    assert (second["action"], second["new_status"]) == ("activated", True)
    assert fresh_user(db_session, "readonly").is_active is True


def test_a_deactivated_user_loses_access(admin: FlaskClient, login: Login, db_session: Session) -> None:
    manager = login("manager")
    admin.post(f"/admin/api/users/{user_id(db_session, 'manager')}/toggle-active")
    assert manager.get("/auth/check").get_json() == {"authenticated": False}
    assert manager.get("/auth/session").status_code == 401


def test_toggle_active_refuses_your_own_account(admin: FlaskClient, db_session: Session) -> None:
    response = admin.post(f"/admin/api/users/{user_id(db_session, 'admin')}/toggle-active")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Cannot deactivate your own account"}
    assert fresh_user(db_session, "admin").is_active is True


def test_toggle_active_of_an_unknown_user_is_404(admin: FlaskClient) -> None:
    response = admin.post("/admin/api/users/9999/toggle-active")
    assert response.status_code == 404
    assert response.get_json() == {"error": "User not found"}
