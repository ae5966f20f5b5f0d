"""Legacy's production launcher (gunicorn.conf.py) refuses a default secret; legacy_flask is untouched."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.support.servers import ROOT

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
