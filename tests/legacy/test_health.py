"""`/api/health/*`: database probes, git version, and blocking system commands run for real."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from legacy_flask.api import health
from legacy_flask.app import create_app
from legacy_flask.extensions import ENGINE_KEY
from legacy_flask.settings_service import SettingsService
from tests.fakes.support import RunningFake, provider_config, running_fake

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def _make(database_url: str, **overrides: Any) -> Flask:
        config = {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "MVIDARR_LOG_FILE": str(tmp_path / "legacy.log"),
        }
        application = create_app({**config, **overrides})
        apps.append(application)
        return application

    yield _make
    for application in apps:
        application.extensions[ENGINE_KEY].dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask], database_url: str) -> Flask:
    return make_app(database_url, INIT_DB=True)


@pytest.fixture
def broken_app(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """An app whose database cannot be opened (its directory does not exist)."""
    return make_app(f"sqlite:///{tmp_path / 'missing-dir' / 'figway.db'}")


def fake_commands(directory: Path, scripts: dict[str, str]) -> None:
    directory.mkdir(exist_ok=True)
    for name, body in scripts.items():
        path = directory / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)


# ------------------------------------------------------------------ database


def test_health_answers_healthy_when_select_1_works(app: Flask) -> None:
    response = app.test_client().get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "healthy", "service": "mvidarr"}


def test_health_with_trailing_slash_answers_too(app: Flask) -> None:
    assert app.test_client().get("/api/health/").status_code == 200


def test_health_answers_503_when_the_database_is_unreachable(broken_app: Flask) -> None:
    response = broken_app.test_client().get("/api/health")
    body = response.get_json()
    assert response.status_code == 503
    assert body["status"] == "unhealthy"
    assert "unable to open database file" in body["error"]


def test_health_stays_open_when_login_is_required(app: Flask) -> None:
    SettingsService.set("require_authentication", "true")
    assert app.test_client().get("/api/health").status_code == 200


def test_status_reports_components_and_timestamp(app: Flask) -> None:
    response = app.test_client().get("/api/health/status")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert body["components"] == {"database": "healthy", "api": "healthy"}
    assert body["timestamp"]


def test_status_answers_503_with_the_database_down(broken_app: Flask) -> None:
    response = broken_app.test_client().get("/api/health/status")
    assert response.status_code == 503
    assert response.get_json()["components"]["database"] == "unhealthy"


def test_database_endpoint_answers_status_and_message(app: Flask) -> None:
    response = app.test_client().get("/api/health/database")
    assert response.status_code == 200
    assert response.get_json() == {"status": "healthy", "message": "Database connection successful"}


def test_database_endpoint_answers_503_when_down(broken_app: Flask) -> None:
    response = broken_app.test_client().get("/api/health/database")
    assert response.status_code == 503
    assert response.get_json()["message"].startswith("Database connection failed: ")


# ------------------------------------------------------------------- version


def test_version_reports_the_git_commit_and_branch(app: Flask) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    branch = subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    body = app.test_client().get("/api/health/version").get_json()
    assert body == {
        "version": json.loads(health.VERSION_FILE.read_text())["version"],
        "git_commit": commit.stdout.strip(),
        "git_branch": branch.stdout.strip(),
    }


def test_version_falls_back_to_version_json_without_git(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    response = app.test_client().get("/api/health/version")
    assert response.status_code == 200
    assert response.get_json() == {"version": "0.9.7", "git_commit": "unknown", "git_branch": "unknown"}


def test_version_without_a_version_file_says_unknown(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "VERSION_FILE", tmp_path / "nope.json")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert app.test_client().get("/api/health/version").get_json()["version"] == "unknown"


# -------------------------------------------------------------------- system


def test_system_reports_disk_memory_load_and_top_processes(app: Flask) -> None:
    response = app.test_client().get("/api/health/system")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["disk"]["available"] is True
    assert body["disk"]["total_bytes"] >= body["disk"]["used_bytes"] > 0
    assert body["memory"]["available"] is True
    assert body["memory"]["total_bytes"] > 0
    assert body["load"]["available"] is True
    assert body["load"]["load_1m"] >= 0
    assert body["processes"]["available"] is True
    assert 0 < len(body["processes"]["top"]) <= health.TOP_PROCESSES
    assert body["service"]["unit"] == "mvidarr"


def test_system_reports_missing_executables_instead_of_failing(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    response = app.test_client().get("/api/health/system")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["unavailable"] == ["disk", "memory", "load", "processes"]
    assert body["disk"] == {"available": False, "error": "df: command not found"}
    assert body["memory"]["error"] == "free: command not found"
    assert body["service"] == {
        "unit": "mvidarr",
        "available": False,
        "state": None,
        "error": "systemctl: command not found",
    }


def test_system_reports_a_command_that_times_out(
    make_app: Callable[..., Flask], database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    fake_commands(bin_dir, {"df": "exec sleep 5"})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    app = make_app(database_url, INIT_DB=True, SYSTEM_COMMAND_TIMEOUT=0.3)
    body = app.test_client().get("/api/health/system").get_json()
    assert body["disk"] == {"available": False, "error": "df: timed out after 0.3s"}
    assert body["memory"]["available"] is True


def test_system_reports_failing_commands_and_odd_output(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    fake_commands(
        bin_dir,
        {
            "df": "echo 'df: /: no such device' >&2; exit 1",
            "free": "echo 'nothing useful'",
            "uptime": "echo 'up forever'",
            "ps": "exit 2",
            "systemctl": "echo active",
        },
    )
    monkeypatch.setenv("PATH", str(bin_dir))
    body = app.test_client().get("/api/health/system").get_json()
    assert body["disk"] == {"available": False, "error": "df: /: no such device"}
    assert body["memory"] == {"available": False, "error": "unexpected free output"}
    assert body["load"] == {"available": False, "error": "unexpected uptime output"}
    assert body["processes"] == {"available": False, "error": "exit 2", "top": []}
    assert body["service"] == {"unit": "mvidarr", "available": True, "state": "active"}


def test_system_reports_a_command_it_may_not_execute(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    fake_commands(bin_dir, {"free": "exit 0"})
    (bin_dir / "free").chmod(0o644)
    monkeypatch.setenv("PATH", str(bin_dir))
    body = app.test_client().get("/api/health/system").get_json()
    assert body["memory"] == {"available": False, "error": "free: Permission denied"}


def test_system_command_timeout_can_come_from_the_environment(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    fake_commands(bin_dir, {"uptime": "exec sleep 5"})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SYSTEM_COMMAND_TIMEOUT", "0.2")
    body = app.test_client().get("/api/health/system").get_json()
    assert body["load"] == {"available": False, "error": "uptime: timed out after 0.2s"}


def test_system_parses_bsd_style_uptime(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    fake_commands(
        bin_dir, {"uptime": "echo '10:00  up 3 days,  2:01, 2 users, load averages: 1.50 1.25 0.75'"}
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    body = app.test_client().get("/api/health/system").get_json()
    assert body["load"] == {
        "available": True,
        "load_1m": 1.5,
        "load_5m": 1.25,
        "load_15m": 0.75,
        "uptime": "3 days,  2:01",
    }


# --------------------------------------------------------------------- imvdb


@pytest.fixture(scope="module")
def fake() -> Iterator[RunningFake]:
    with running_fake() as running:
        yield running


def test_imvdb_health_answers_success_with_a_working_key(
    make_app: Callable[..., Flask], sqlite_url: str, fake: RunningFake
) -> None:
    app = make_app(sqlite_url, INIT_DB=True, IMVDB_MIN_INTERVAL=0, **provider_config(fake.url))
    response = app.test_client().get("/api/health/imvdb")
    assert response.status_code == 200
    assert response.get_json()["status"] == "success"


@pytest.mark.parametrize(
    ("key", "message"),
    [("", "IMVDb API key not configured"), ("wrong", "IMVDb API authentication failed - check API key")],
)
def test_imvdb_health_answers_503_without_a_working_key(
    make_app: Callable[..., Flask], sqlite_url: str, fake: RunningFake, key: str, message: str
) -> None:
    app = make_app(
        sqlite_url, INIT_DB=True, IMVDB_MIN_INTERVAL=0, **provider_config(fake.url, IMVDB_API_KEY=key)
    )
    response = app.test_client().get("/api/health/imvdb")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "error",
        "message": message,
        "help_url": "https://imvdb.com/developers/api",
    }
