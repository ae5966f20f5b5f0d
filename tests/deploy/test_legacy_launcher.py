"""Legacy's production launcher (gunicorn.conf.py): refuses a default secret, logs the trace it receives.

legacy_flask itself is untouched: both live in the launcher's configuration.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.servers import ROOT, free_port, wait_for_port

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _gunicorn(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("MVIDARR_SECRET_KEY", "FIGWAY_ENV")}
    return subprocess.run(
        [GUNICORN, "--check-config", "legacy_flask.wsgi:app"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_gunicorn_refuses_the_default_secret_in_production() -> None:
    done = _gunicorn({"FIGWAY_ENV": "production"})
    assert done.returncode != 0
    assert "MVIDARR_SECRET_KEY is not set" in done.stdout + done.stderr


def test_gunicorn_accepts_a_random_secret_in_production() -> None:
    done = _gunicorn({"FIGWAY_ENV": "production", "MVIDARR_SECRET_KEY": secrets.token_urlsafe(48)})
    assert "MVIDARR_SECRET_KEY" not in done.stdout + done.stderr


def test_the_access_log_carries_the_trace_id_legacy_receives(tmp_path: Path) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    port = free_port()
    log = tmp_path / "stdout.log"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/legacy.db"}
    env.pop("FIGWAY_ENV", None)
    with open(log, "wb") as out:
        # The launchers' own command line (docker-compose.yml), the config read from the working directory.
        proc = subprocess.Popen(
            [GUNICORN, "--workers", "1", "--threads", "2", "--bind", f"127.0.0.1:{port}",
             "--no-control-socket", "legacy_flask.wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            wait_for_port(port, timeout=60)
            traced = httpx.get(
                f"http://127.0.0.1:{port}/api/health",
                headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01", "x-request-id": "req-42"},
                timeout=30,
            )
            untraced = httpx.get(f"http://127.0.0.1:{port}/api/health?plain=1", timeout=30)
            assert traced.status_code == untraced.status_code == 200
        finally:
            proc.terminate()
            proc.wait(timeout=30)  # gunicorn flushes its access log on the way out
    lines = log.read_text().splitlines()
    line = next(line for line in lines if '"GET /api/health HTTP/1.1"' in line)
    assert f"traceparent=00-{trace_id}-00f067aa0ba902b7-01" in line
    assert "request_id=req-42" in line
    plain = next(line for line in lines if "/api/health?plain=1" in line)
    assert "traceparent=- " in plain
