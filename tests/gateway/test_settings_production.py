"""Production mode: the gateway refuses to start without a strong admin token (issue 15, finding 1)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from gateway.settings import GatewaySettings
from tests.support.servers import ROOT


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (None, "is not set"),
        ("change-me-admin-token", "is a placeholder"),
        ("s3cr3t-but-short", "is shorter than 32"),
    ],
)
def test_production_refuses_a_missing_placeholder_or_short_admin_token(
    token: str | None, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIGWAY_ENV", "production")
    with pytest.raises(ValueError, match=f"GATEWAY_ADMIN_TOKEN {why}"):
        GatewaySettings(admin_token=token)


def test_production_starts_with_a_random_admin_token_and_development_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = secrets.token_urlsafe(48)
    assert GatewaySettings().admin_token is None  # development: loopback-only admin, as before
    monkeypatch.setenv("FIGWAY_ENV", "production")
    settings = GatewaySettings(admin_token=token)
    assert settings.environment == "production"
    assert settings.admin_token is not None and settings.admin_token.get_secret_value() == token


def test_gateway_program_refuses_to_start_in_production_without_a_token() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["FIGWAY_ENV"] = "production"
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "GATEWAY_ADMIN_TOKEN is not set" in done.stderr
