"""The one dependency that says who is calling.

For now it reads the user exactly the way the legacy app does (legacy_flask/auth): the signed
Flask session cookie (`mvidarr_session`) carries `user_id` and `session_token`; the user is
the owner of that ACTIVE, unexpired `user_sessions` row, if the user is active. The auth work
(issue 7) replaces the internals of `get_optional_user` (JWT, API keys, ...) and keeps these
aliases stable:

    OptionalUserDep  -> User | None
    CurrentUserDep   -> User, or the legacy 401 {"error": "Authentication required", ...}
    SessionUserDep   -> User named by the session's `username` alone (legacy playlists read
                        the user this way, without checking the session row), or the legacy
                        401 {"error": "User not found"}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from services.auth.flask_session import load_session
from services.db import SessionDep
from services.errors import LegacyError, legacy_error
from services.models import SessionStatus, User, UserSession, utcnow
from services.settings import Settings

AUTH_REQUIRED_BODY = {"error": "Authentication required", "code": "AUTH_REQUIRED"}


def legacy_session(request: Request) -> dict[str, Any]:
    """The decoded legacy Flask session of this request (`{}` without a valid cookie)."""
    if "figway_session" not in request.scope:
        settings: Settings = request.app.state.settings
        request.scope["figway_session"] = load_session(
            request.cookies.get(settings.session_cookie_name, ""),
            secret_key=settings.secret_key.get_secret_value(),
            max_age=settings.session_lifetime_seconds,
        )
    data: dict[str, Any] = request.scope["figway_session"]
    return data


async def get_optional_user(request: Request, session: SessionDep) -> User | None:
    if "figway_user" in request.scope:  # one lookup per request, shared by guard and handler
        cached: User | None = request.scope["figway_user"]
        return cached
    data = legacy_session(request)
    user = await _session_user(session, data.get("user_id"), data.get("session_token"))
    request.scope["figway_user"] = user
    return user


async def _session_user(session: SessionDep, user_id: object, token: object) -> User | None:
    if not isinstance(token, str) or not token or not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    row = await session.scalar(
        select(UserSession)
        .join(UserSession.user)
        .options(contains_eager(UserSession.user))
        .where(UserSession.session_token == token)
    )
    if row is None or row.user_id != user_id or row.status != SessionStatus.ACTIVE:
        return None
    if row.expires_at <= utcnow() or not row.user.is_active:
        return None
    return row.user


OptionalUserDep = Annotated[User | None, Depends(get_optional_user)]


async def get_current_user(user: OptionalUserDep) -> User:
    if user is None:
        raise LegacyError(401, AUTH_REQUIRED_BODY)
    return user


CurrentUserDep = Annotated[User, Depends(get_current_user)]


async def get_session_user(request: Request, session: SessionDep) -> User:
    username = legacy_session(request).get("username")
    user: User | None = None
    if isinstance(username, str) and username:
        user = await session.scalar(select(User).where(User.username == username).limit(1))
    if user is None:
        raise legacy_error(401, "User not found")
    return user


SessionUserDep = Annotated[User, Depends(get_session_user)]
