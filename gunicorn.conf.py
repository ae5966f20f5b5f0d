"""gunicorn's configuration for the legacy app (read from the working directory by default).

The one production launcher of `legacy_flask` (docker-compose.yml, the image): legacy itself is
never changed, so the production-mode secret check lives here, before any worker starts. With
`FIGWAY_ENV=production`, a missing, development-default, placeholder or short
`MVIDARR_SECRET_KEY` stops gunicorn with a message naming the variable (the rule of
services/secret_policy.py; the programs never import each other, so it is restated here).

It also writes gunicorn's access log to stdout with the W3C ``traceparent`` the gateway forwards
(and the request id): legacy is not instrumented, so its access line is what ties a legacy
request to the gateway's trace (``grep <trace id>``). Every launcher that runs gunicorn from the
repository or the image's /app reads this file (docker-compose.yml, deploy/kubernetes).
"""

from __future__ import annotations

import os

LEGACY_DEFAULT_SECRET = "mvidarr-dev-secret-key-change-me"  # noqa: S105 - refused, as in legacy_flask/config.py
PLACEHOLDERS = ("change-me", "changeme", "change_me", "placeholder", "example", "your-secret", "xxxx")


#: One access line per request on stdout (the container's log); a request without the header shows "-".
accesslog = "-"
#: gunicorn's default format, then the trace context received and the request id (the same id the
#: gateway logs and answers with), so one grep finds a request on every side.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
    "traceparent=%({traceparent}i)s request_id=%({x-request-id}i)s duration_us=%(D)s"
)


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
