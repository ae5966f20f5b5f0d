"""What the `/auth` routes share: request facts, credentials, the legacy session rule, cookies."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from werkzeug.http import dump_cookie

from services._bounds import check_value
from services._legacy_http import json_body

# Legacy's JSON bytes (sorted keys, ASCII escapes, trailing newline) under the familiar name.
from services._legacy_json import LegacyJSONResponse as JSONResponse
from services.auth._forms import parse_form
from services.auth.access import access_rule
from services.auth.current_user import (
    AUTH_REQUIRED_BODY,
    legacy_session,
)
from services.auth.flask_session import dump_session, session_set_cookie
from services.auth.network import client_ip
from services.auth.service import (
    find_valid_session,
)
from services.auth.state import auth_state
from services.db import SessionDep
from services.errors import (
    LegacyError,
    Unauthorized,
    is_legacy_route,
)
from services.models import User, UserSession
from services.settings import Settings

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def request_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def request_ip(request: Request) -> str | None:
    return client_ip(request, auth_state(request).trusted_proxies)


def request_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


async def read_credentials(request: Request) -> tuple[str, str]:
    """Legacy's reading: JSON for a JSON content type (silent), otherwise the form."""
    body: dict[str, Any] | None = await json_body(request)
    if body is None:
        body = parse_form(request.headers.get("content-type", ""), await request.body())
    username, password = str(body.get("username") or "").strip(), str(body.get("password") or "")
    # Both are hashed (rate-limit keys, password check) before any query binds them.
    check_value(username)
    check_value(password)
    return username, password


@access_rule("legacy session")
async def require_legacy_session(request: Request, session: SessionDep) -> UserSession:
    data = legacy_session(request)
    row = await find_valid_session(session, user_id=data.get("user_id"), token=data.get("session_token"))
    if row is None:
        if is_legacy_route(request.url.path):
            raise LegacyError(401, AUTH_REQUIRED_BODY)
        raise Unauthorized("A valid legacy session is required", code="auth_required")
    return row


def set_session_cookie(response: JSONResponse, settings: Settings, user: User, row: UserSession) -> None:
    # What legacy's login puts in the Flask session (`_permanent` is how Flask marks it permanent).
    value = dump_session(
        {
            "_permanent": True,
            "role": user.role.value,
            "session_token": row.session_token,
            "user_id": user.id,
            "username": user.username,
        },
        secret_key=settings.secret_key.get_secret_value(),
    )
    response.headers.append(
        "set-cookie",
        session_set_cookie(
            value,
            name=settings.session_cookie_name,
            lifetime_seconds=settings.session_lifetime_seconds,
            secure=settings.session_cookie_secure,
        ),
    )


def clear_session_cookie(response: JSONResponse, settings: Settings) -> None:
    response.headers.append(
        "set-cookie",
        dump_cookie(
            settings.session_cookie_name,
            "",
            expires=0,
            max_age=0,
            path="/",
            secure=settings.session_cookie_secure,
            httponly=True,
            samesite="Lax",
        ),
    )


def set_refresh_cookie(response: JSONResponse, settings: Settings, token: str) -> None:
    response.set_cookie(
        settings.refresh_cookie_name,
        token,
        max_age=settings.refresh_token_ttl_seconds,
        path=settings.refresh_cookie_path,
        secure=settings.refresh_cookie_secure,
        httponly=True,
        samesite=settings.refresh_cookie_samesite,
    )


def clear_refresh_cookie(response: JSONResponse, settings: Settings) -> None:
    response.delete_cookie(
        settings.refresh_cookie_name,
        path=settings.refresh_cookie_path,
        secure=settings.refresh_cookie_secure,
        httponly=True,
        samesite=settings.refresh_cookie_samesite,
    )
