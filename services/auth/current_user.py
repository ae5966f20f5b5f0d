"""The one dependency that says who is calling.

For now it reads the user the way the legacy app does: the Flask session cookie
(`mvidarr_session`) names `username`. The auth work (issue 7) replaces the internals of
`get_current_user` (JWT, API keys, ...) and keeps these two aliases stable:

    OptionalUserDep  -> User | None
    CurrentUserDep   -> User, or the legacy 401 {"error": "User not found"}
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from services.auth.flask_session import load_session
from services.db import SessionDep
from services.errors import legacy_error
from services.models import User
from services.settings import Settings


async def get_optional_user(request: Request, session: SessionDep) -> User | None:
    settings: Settings = request.app.state.settings
    data = load_session(
        request.cookies.get(settings.session_cookie_name, ""),
        secret_key=settings.secret_key.get_secret_value(),
        max_age=settings.session_lifetime_seconds,
    )
    username = data.get("username")
    if not isinstance(username, str) or not username:
        return None
    user: User | None = await session.scalar(select(User).where(User.username == username))
    return user


OptionalUserDep = Annotated[User | None, Depends(get_optional_user)]


async def get_current_user(user: OptionalUserDep) -> User:
    if user is None:
        raise legacy_error(401, "User not found")
    return user


CurrentUserDep = Annotated[User, Depends(get_current_user)]
