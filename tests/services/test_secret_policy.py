"""Production mode refuses well-known, placeholder and short secrets (issue 15, finding 1)."""

from __future__ import annotations

import secrets
import subprocess
import sys

import pytest

from services.secret_policy import weakness
from services.settings import DEFAULT_SECRET_KEY, Settings
from tests.support.servers import ROOT

STRONG = secrets.token_urlsafe(48)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "is not set"),
        (DEFAULT_SECRET_KEY, "development default"),
        ("change-me-session-secret-but-long-enough-0123", "placeholder"),
        ("short-but-random-Xq9", "shorter than 32"),
        ("ab" * 40, "distinct characters"),
    ],
)
def test_weak_secrets_are_named_with_the_reason(value: str, why: str) -> None:
    found = weakness(value, known_defaults=(DEFAULT_SECRET_KEY,))
    assert found is not None and why in found


def test_a_random_secret_passes() -> None:
    assert weakness(STRONG) is None


def test_production_refuses_the_default_cookie_key_and_a_missing_jwt_key() -> None:
    with pytest.raises(ValueError, match="MVIDARR_SECRET_KEY is the development default") as refused:
        Settings(environment="production")
    assert "JWT_SECRET is not set" in str(refused.value)


def test_production_refuses_a_jwt_key_equal_to_the_cookie_key() -> None:
    with pytest.raises(ValueError, match="JWT_SECRET equals MVIDARR_SECRET_KEY"):
        Settings(environment="production", secret_key=STRONG, jwt_secret=STRONG)


def test_production_starts_with_two_strong_distinct_keys() -> None:
    settings = Settings(environment="production", secret_key=STRONG, jwt_secret=secrets.token_urlsafe(48))
    assert settings.jwt_hmac_key != settings.secret_key.get_secret_value()


def test_development_derives_a_jwt_key_that_is_not_the_cookie_key() -> None:
    settings = Settings(secret_key=STRONG)
    assert settings.jwt_hmac_key not in (STRONG, "") and len(settings.jwt_hmac_key) == 64
    assert Settings(secret_key=STRONG).jwt_hmac_key == settings.jwt_hmac_key  # stable across restarts


def test_services_program_refuses_to_start_in_production_with_the_default_key() -> None:
    env = {"PATH": "/usr/bin:/bin", "FIGWAY_ENV": "production", "HOME": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "services", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "MVIDARR_SECRET_KEY is the development default" in done.stderr
    assert "JWT_SECRET is not set" in done.stderr
