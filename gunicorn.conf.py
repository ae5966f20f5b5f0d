"""gunicorn's configuration for the legacy app (read from the working directory by default).

The one production launcher of `legacy_flask` (docker-compose.yml, the image): legacy itself is
never changed, so the production-mode secret check lives here, before any worker starts. With
`FIGWAY_ENV=production`, a missing, development-default, placeholder or short
`MVIDARR_SECRET_KEY` stops gunicorn with a message naming the variable (the rule of
services/secret_policy.py; the programs never import each other, so it is restated here).
"""

from __future__ import annotations

import os

LEGACY_DEFAULT_SECRET = "mvidarr-dev-secret-key-change-me"  # noqa: S105 - refused, as in legacy_flask/config.py
PLACEHOLDERS = ("change-me", "changeme", "change_me", "placeholder", "example", "your-secret", "xxxx")


def _weakness(value: str) -> str | None:
    if not value:
        return "is not set"
    if value == LEGACY_DEFAULT_SECRET:
        return "is the development default from the source code"
    if any(marker in value.lower() for marker in PLACEHOLDERS):
        return "is a placeholder"
    if len(value) < 32 or len(set(value)) < 12:
        return "is shorter than 32 random characters"
    return None


def check_production_secrets(env: dict[str, str] | os._Environ[str] = os.environ) -> None:
    if env.get("FIGWAY_ENV", "").strip().lower() != "production":
        return
    why = _weakness(env.get("MVIDARR_SECRET_KEY", ""))
    if why:
        raise SystemExit(
            f"legacy: production mode (FIGWAY_ENV=production): MVIDARR_SECRET_KEY {why}; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


check_production_secrets()
