"""`/api/health*` and `/admin/system/*`: services answer what legacy answers.

Allowed differences, each with its reason:
- `timestamp` (status, system): each side's own "now" (normalized by the harness).
- `/api/health/system` values (disk bytes, memory, load, the top processes and their CPU
  shares): measured by each side at its own instant, so only the shape is compared: status,
  keys, availability, value types and the systemd answer.
- `pid` and `uptime` (admin service status): each side is its own process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.contract.harness import Pair, prepare_database, serve_pair

ADMIN_PATHS = (
    ("GET", "/admin/system/status/service"),
    ("GET", "/admin/system/logs/recent"),
    ("POST", "/admin/system/restart"),
)


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "logs" / "app.log"
    monkeypatch.setenv("MVIDARR_LOG_FILE", str(path))  # both sides read the same app log
    monkeypatch.setenv("RESTART_DELAY", "0")
    return path


def _set_restart_command(*urls: str, value: str) -> None:
    for url in urls:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE settings SET value = :v WHERE `key` = 'restart_command'"), {"v": value})
        engine.dispose()


@pytest.fixture
def health_pair(
    database_url: str, twin_url: str, log_file: Path, request: pytest.FixtureRequest
) -> Iterator[Pair]:
    prepare_database(database_url)
    prepare_database(twin_url)
    restart = getattr(request, "param", None)
    if restart is not None:
        _set_restart_command(database_url, twin_url, value=restart)
    with serve_pair(database_url, twin_url) as pair:
        yield pair


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def test_health_probes_match_legacy(health_pair: Pair) -> None:
    assert health_pair.check("GET", "/api/health", expect=200).json() == {
        "status": "healthy",
        "service": "mvidarr",
    }
    health_pair.check("GET", "/api/health/", expect=200)
    health_pair.check("GET", "/api/health/status", expect=200)
    health_pair.check("GET", "/api/health/database", expect=200)
    version = health_pair.check("GET", "/api/health/version", expect=200).json()
    assert set(version) == {"version", "git_commit", "git_branch"}
    health_pair.check("POST", "/api/health/status", expect=405)


def test_system_report_has_legacys_shape_and_service_answer(health_pair: Pair) -> None:
    old = health_pair.send("legacy", "GET", "/api/health/system")
    new = health_pair.send("services", "GET", "/api/health/system")
    assert old.status == new.status == 200
    assert _shape(old.body) == _shape(new.body)
    assert old.body["service"] == new.body["service"]  # systemctl's answer (or its absence)
    assert (old.body["status"], old.body.get("unavailable")) == (
        new.body["status"],
        new.body.get("unavailable"),
    )
    for part in ("disk", "memory", "load"):
        assert old.body[part]["available"] == new.body[part]["available"]
    assert new.body["disk"]["mount"] == old.body["disk"]["mount"]


def test_admin_endpoints_refuse_like_legacy(health_pair: Pair) -> None:
    for method, path in ADMIN_PATHS:
        health_pair.check(method, path, expect=401)
        for user in ("manager", "user", "readonly"):
            health_pair.check(method, path, as_user=user, expect=403)


def test_service_status_matches_legacy_but_pid_and_uptime(health_pair: Pair) -> None:
    old = health_pair.send("legacy", "GET", "/admin/system/status/service", as_user="admin")
    new = health_pair.send("services", "GET", "/admin/system/status/service", as_user="admin")
    assert old.status == new.status == 200
    volatile = ("pid", "uptime")
    assert {k: v for k, v in old.body.items() if k not in volatile} == {
        k: v for k, v in new.body.items() if k not in volatile
    }
    assert isinstance(new.body["pid"], int) and isinstance(new.body["uptime"], float)
    assert new.body["restart_available"] is True


def test_recent_logs_match_legacy(health_pair: Pair, log_file: Path) -> None:
    log_file.write_text("".join(f"line {i}\n" for i in range(120)))
    answer = health_pair.check("GET", "/admin/system/logs/recent", as_user="admin", expect=200).json()
    assert answer["entry_count"] == 50 and answer["log_entries"][-1] == "line 119"
    log_file.unlink()
    health_pair.check("GET", "/admin/system/logs/recent", as_user="admin", expect=404)


def test_restart_with_the_allowed_default_matches_legacy(health_pair: Pair) -> None:
    answer = health_pair.check("POST", "/admin/system/restart", as_user="admin", expect=200).json()
    assert answer == {
        "success": True,
        "message": "Application restart initiated",
        "estimated_downtime": "10-30 seconds",
    }


@pytest.mark.parametrize(
    "health_pair",
    [json.dumps(["sh", "-c", "reboot"]), "systemctl restart mvidarr", json.dumps(["true", 1]), "[]"],
    indirect=True,
)
def test_restart_refusals_match_legacy(health_pair: Pair) -> None:
    answer = health_pair.check("POST", "/admin/system/restart", as_user="admin", expect=400).json()
    assert answer["success"] is False and answer["error"].startswith("Restart command is not")
