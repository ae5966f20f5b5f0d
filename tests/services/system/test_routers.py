"""Health and admin endpoints of services on a real socket: degraded and failure paths."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from services.app import create_app
from services.settings import Settings
from services.system.admin_router import tail
from tests.contract.harness import USERS, prepare_database
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread

AUTH_REQUIRED = {"error": "Authentication required", "code": "AUTH_REQUIRED"}


@pytest.fixture
def seeded(sqlite_url: str) -> str:
    prepare_database(sqlite_url)
    return sqlite_url


def _cookie(settings: Settings, user: str) -> str:
    import hashlib

    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer(
        settings.secret_key.get_secret_value(),
        salt="cookie-session",
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    data = {"user_id": USERS[user], "username": user, "role": "x", "session_token": f"token-{user}"}
    return serializer.dumps(data)


class Running:
    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings

    def get(self, path: str, *, user: str | None = None, method: str = "GET") -> httpx.Response:
        cookies = {"mvidarr_session": _cookie(self.settings, user)} if user else None
        return httpx.request(method, f"{self.url}{path}", cookies=cookies, timeout=30)


@pytest.fixture
def serve(seeded: str) -> Iterator[Any]:
    def _serve(**overrides: Any) -> Any:
        settings = Settings(database_url=async_url(seeded), **overrides)
        return uvicorn_thread(create_app(settings)), settings

    yield _serve


def test_health_answers_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}")
    with uvicorn_thread(create_app(settings)) as server:
        health = httpx.get(f"{server.url}/api/health")
        status = httpx.get(f"{server.url}/api/health/status")
        database = httpx.get(f"{server.url}/api/health/database")
    assert health.status_code == 503 and health.json()["status"] == "unhealthy" and health.json()["error"]
    assert status.status_code == 503 and status.json()["components"] == {
        "database": "unhealthy",
        "api": "healthy",
    }
    assert database.status_code == 503 and database.json()["message"].startswith(
        "Database connection failed: "
    )


def test_system_report_is_degraded_when_commands_are_unavailable(serve: Any) -> None:
    server, settings = serve(system_command_allowlist=("uptime",))
    with server as running:
        body = httpx.get(f"{running.url}/api/health/system").json()
    assert body["status"] == "degraded"
    assert body["unavailable"] == ["disk", "memory", "processes"]
    assert body["disk"] == {"available": False, "error": "df: not allowed"}
    assert body["processes"]["top"] == []
    assert body["load"]["available"] is True and isinstance(body["load"]["load_1m"], float)
    assert body["service"]["available"] is False


def test_version_falls_back_to_the_version_file_without_git(serve: Any, tmp_path: Path) -> None:
    version = tmp_path / "version.json"
    version.write_text('{"version": "1.2.3", "git_commit": "abc", "git_branch": "rel"}')
    server, _ = serve(system_command_allowlist=(), version_file=str(version))
    with server as running:
        body = httpx.get(f"{running.url}/api/health/version").json()
    assert body == {"version": "1.2.3", "git_commit": "abc", "git_branch": "rel"}
    server, _ = serve(system_command_allowlist=(), version_file=str(tmp_path / "none.json"))
    with server as running:
        assert httpx.get(f"{running.url}/api/health/version").json() == {
            "version": "unknown",
            "git_commit": "unknown",
            "git_branch": "unknown",
        }


def test_admin_endpoints_need_an_admin(serve: Any) -> None:
    server, settings = serve()
    with server as running:
        client = Running(running.url, settings)
        assert client.get("/admin/system/status/service").json() == AUTH_REQUIRED
        assert client.get("/admin/system/status/service", user="manager").status_code == 403
        assert client.get("/admin/system/status/service", user="admin").status_code == 200


def test_restart_runs_in_the_background_and_is_audited(serve: Any, seeded: str, tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    marker = tmp_path / "restarted"
    script = tmp_path / "restart.sh"
    script.write_text(f"#!/bin/sh\necho restarted > {marker}\n")
    script.chmod(0o755)
    engine = create_engine(seeded)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE settings SET value = :v WHERE key = 'restart_command'"), {"v": f'["{script}"]'}
        )
    engine.dispose()
    server, settings = serve(
        restart_allowlist=((str(script),),), system_command_allowlist=(str(script),), restart_delay=0
    )
    with capture_logs() as logs, server as running:
        response = Running(running.url, settings).get("/admin/system/restart", user="admin", method="POST")
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        while time.monotonic() < deadline and not any(e["event"] == "admin.restart_finished" for e in logs):
            time.sleep(0.05)
    assert response.json()["success"] is True
    assert marker.read_text() == "restarted\n"
    requested = next(e for e in logs if e["event"] == "admin.restart_requested")
    assert requested["user"] == "admin" and requested["argv"] == [str(script)]
    finished = next(e for e in logs if e["event"] == "admin.restart_finished")
    assert finished["status"] == "ok"
    engine = create_engine(seeded)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT event, username, detail FROM auth_audit_log")).all()
    engine.dispose()
    assert [(r[0], r[1]) for r in rows] == [("admin_restart", "admin")]
    assert str(script) in str(rows[0][2])


def test_tail_reads_only_the_end_of_a_large_file(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text("".join(f"entry {i}\n" for i in range(100_000)))
    assert tail(log, 3, block=64) == ["entry 99997", "entry 99998", "entry 99999"]
    short = tmp_path / "short.log"
    short.write_text("only\n")
    assert tail(short, 50) == ["only"]
