"""`python -m services serve` runs the app under uvicorn; `--help` lists both commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from services.__main__ import main
from tests.support.servers import free_port, python_module, subprocess_server


def test_serve_answers_health_checks_on_the_given_port(tmp_path: Path) -> None:
    port = free_port()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/serve.db", "SERVICES_LOG_LEVEL": "warning"}
    args = python_module("services", "serve", "--port", str(port), "--no-access-log")
    with subprocess_server(args, port=port, env=env) as (server, _proc):
        response = httpx.get(f"{server.url}/healthz", timeout=10)
    assert response.json() == {"status": "ok", "database": "ok"}


def test_the_command_line_names_its_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "serve" in result.stdout and "migrate" in result.stdout


def test_migrate_runs_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/m.db")
    assert main(["migrate"]) == 0
    assert (tmp_path / "m.db").exists()
