"""`install_auth(app, settings)`: the auth state, security headers and CORS of the services app."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from services.auth.access import access_rule
from services.auth.current_user import get_session_user
from services.auth.middleware import SecurityHeadersMiddleware
from services.auth.state import build_auth_state
from services.guard import require_login_when_enabled
from services.health import healthz
from services.settings import Settings

# Rules the skeleton declared before the auth package existed.
access_rule("login when require_authentication is on")(require_login_when_enabled)
access_rule("session user")(get_session_user)
access_rule("public")(healthz)


def install_auth(app: FastAPI, settings: Settings) -> None:
    app.state.auth = build_auth_state(settings)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
        )
