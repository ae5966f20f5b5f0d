"""The one dependency that says who is calling.

The caller is resolved once per request, from the first credential present, in this order:

1. `Authorization: Bearer <JWT>`: signature, algorithm, iss/aud/exp/nbf checked; the user
   must exist and be active, and the token's refresh family must not be revoked (logout and
   refresh-token reuse revoke it). The role is the lower of the token's and the database's.
2. `X-API-Key`: an unrevoked key of an active user; the role is the key's (never above the
   user's). Its last use is recorded.
3. The legacy Flask session cookie (`mvidarr_session`), exactly as the legacy app reads it:
   signature and age, then an ACTIVE, unexpired `user_sessions` row of an active user.

A credential that is present but invalid ends the search (no fallback to the next one): a
revoked token must not be rescued by a cookie that happens to ride along.

    OptionalUserDep  -> User | None
    CurrentUserDep   -> User, or the legacy 401 {"error": "Authentication required", ...}
    SessionUserDep   -> User named by the session's `username` alone (legacy playlists read
                        the user this way, without checking the session row), or the legacy
                        401 {"error": "User not found"}
    PrincipalDep     -> Principal | None (user, effective role, how they authenticated)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import structlog
from fastapi import Depends, Request
from sqlalchemy import select, update

from services.auth.flask_session import load_session
from services.auth.models import ApiKey
from services.auth.network import client_ip
from services.auth.service import family_is_revoked, find_api_key, find_valid_session, lower_role
from services.auth.state import auth_state
from services.auth.tokens import TokenError
from services.db import SessionDep
from services.errors import LegacyError, legacy_error
from services.models import User, UserRole, utcnow
from services.settings import Settings

AUTH_REQUIRED_BODY = {"error": "Authentication required", "code": "AUTH_REQUIRED"}
API_KEY_HEADER = "x-api-key"

log = structlog.get_logger("services.auth")

Via = Literal["jwt", "api_key", "session"]


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    role: UserRole
    via: Via
    family_id: str | None = None
    session_token: str | None = None
    api_key_id: int | None = None


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


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or ""


async def _from_bearer(request: Request, session: SessionDep, token: str) -> Principal | None:
    try:
        claims = auth_state(request).codec.decode(token)
    except TokenError as exc:
        log.info("auth.token_rejected", reason=str(exc), path=request.url.path)
        return None
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active:
        return None
    if claims.family_id is not None and await family_is_revoked(session, family_id=claims.family_id):
        log.info("auth.token_rejected", reason="revoked", user_id=user.id, path=request.url.path)
        return None
    return Principal(user, lower_role(claims.role, user.role), "jwt", family_id=claims.family_id)


async def _from_api_key(request: Request, session: SessionDep, key: str) -> Principal | None:
    found = await find_api_key(session, key=key)
    if found is None:
        log.info("auth.api_key_rejected", path=request.url.path)
        return None
    row, user = found
    ip = client_ip(request, auth_state(request).trusted_proxies)
    await session.execute(
        update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=utcnow(), last_used_ip=ip)
    )
    return Principal(user, lower_role(UserRole(row.role), user.role), "api_key", api_key_id=row.id)


async def _from_session_cookie(request: Request, session: SessionDep) -> Principal | None:
    data = legacy_session(request)
    row = await find_valid_session(session, user_id=data.get("user_id"), token=data.get("session_token"))
    if row is None:
        return None
    return Principal(row.user, row.user.role, "session", session_token=row.session_token)


async def get_principal(request: Request, session: SessionDep) -> Principal | None:
    if "figway_principal" in request.scope:  # one lookup per request, shared by guard and handler
        cached: Principal | None = request.scope["figway_principal"]
        return cached
    principal: Principal | None
    token = bearer_token(request)
    key = request.headers.get(API_KEY_HEADER)
    if token is not None:
        principal = await _from_bearer(request, session, token) if token else None
    elif key is not None:
        principal = await _from_api_key(request, session, key) if key else None
    else:
        principal = await _from_session_cookie(request, session)
    request.scope["figway_principal"] = principal
    return principal


PrincipalDep = Annotated[Principal | None, Depends(get_principal)]


async def get_optional_user(request: Request, session: SessionDep) -> User | None:
    principal = await get_principal(request, session)
    return principal.user if principal is not None else None


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
    elif bearer_token(request) is not None or request.headers.get(API_KEY_HEADER) is not None:
        # Token and API-key callers have no Flask session; they are who their credential says.
        principal = await get_principal(request, session)
        user = principal.user if principal is not None else None
    if user is None:
        raise legacy_error(401, "User not found")
    return user


SessionUserDep = Annotated[User, Depends(get_session_user)]
