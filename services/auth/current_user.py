"""The one credential resolver: who is calling, as exactly one user.

Every credential present is read: `Authorization: Bearer <JWT>` (signature, pinned algorithm,
iss/aud/exp/nbf/iat; the user active; its login's `user_sessions` row still on and its refresh
family not revoked, see `session_links`; the role the lower of the token's and the database's),
`X-API-Key` (an unrevoked key of an active user, at most the key's role) and the legacy
`mvidarr_session` cookie (legacy's reading: signature and age, then an ACTIVE, unexpired row of
an active user).

- A credential that does not authenticate anyone (malformed, forged, expired, revoked, empty:
  `Bearer x`, `Bearer `, `X-API-Key: x`) is ignored, as legacy ignores the headers it never
  reads. It never adds anything: the request is what its valid credentials alone make it, so a
  stray header beside a valid cookie answers as legacy does, and a revoked token is not
  rescued by anything but a credential that is valid on its own.
- Valid credentials naming one user make one principal with the *lowest* of their roles (a
  READONLY key beside an admin cookie acts READONLY).
- Valid credentials naming different users are refused: `CredentialConflict`, answered 401.

    OptionalUserDep  -> User | None
    CurrentUserDep   -> User, or the legacy 401 {"error": "Authentication required", ...}
    SessionUserDep   -> the caller as a user (playlists), or legacy's 401 {"error": "User not found"}
    PrincipalDep     -> Principal | None (user, effective role, how they authenticated)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import structlog
from fastapi import Depends, Request
from sqlalchemy import update

from services._error_types import LegacyError, Unauthorized, legacy_error
from services._legacy_paths import LEGACY_AUTH_PATHS
from services.auth.cookie_caller import find_cookie_caller
from services.auth.flask_session import load_session
from services.auth.models import ApiKey
from services.auth.network import client_ip
from services.auth.service import find_api_key, lower_role
from services.auth.state import auth_state
from services.auth.tokens import TokenError
from services.db import SessionDep
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
    session_id: int | None = None


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
    state = auth_state(request)
    try:
        claims = state.codec.decode(token)
    except TokenError as exc:
        log.info("auth.token_rejected", reason=str(exc), path=request.url.path)
        return None
    if claims.session_id is None:  # every token we issue names its login
        log.info("auth.token_rejected", reason="no session", path=request.url.path)
        return None
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active:
        return None
    if not await state.session_links.alive(
        session, session_id=claims.session_id, user_id=user.id, family_id=claims.family_id
    ):
        log.info("auth.token_rejected", reason="login ended", user_id=user.id, path=request.url.path)
        return None
    return Principal(
        user,
        lower_role(claims.role, user.role),
        "jwt",
        family_id=claims.family_id,
        session_id=claims.session_id,
    )


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
    caller = await find_cookie_caller(session, user_id=data.get("user_id"), token=data.get("session_token"))
    if caller is None:
        return None
    user = caller.user
    return Principal(
        user, user.role, "session", session_token=caller.session_token, session_id=caller.session_id
    )


class CredentialConflict(Exception):
    """Valid credentials of different users in one request."""


def _merge(found: list[Principal]) -> Principal:
    role = found[0].role
    for other in found[1:]:
        role = lower_role(role, other.role)
    first = found[0]
    return Principal(
        first.user,
        role,
        first.via,
        family_id=next((p.family_id for p in found if p.family_id), None),
        session_token=next((p.session_token for p in found if p.session_token), None),
        api_key_id=next((p.api_key_id for p in found if p.api_key_id), None),
        session_id=next((p.session_id for p in found if p.session_id), None),
    )


async def resolve_principal(request: Request, session: SessionDep) -> Principal | None:
    """The caller, or None; raises `CredentialConflict` for credentials of different users."""
    if "figway_principal" in request.scope:  # one lookup per request, shared by guard and handler
        cached: Principal | CredentialConflict | None = request.scope["figway_principal"]
        if isinstance(cached, CredentialConflict):
            raise cached
        return cached
    found: list[Principal] = []
    token = bearer_token(request)
    if token:
        principal = await _from_bearer(request, session, token)
        if principal is not None:
            found.append(principal)
    key = request.headers.get(API_KEY_HEADER)
    if key:
        principal = await _from_api_key(request, session, key)
        if principal is not None:
            found.append(principal)
    principal = await _from_session_cookie(request, session)
    if principal is not None:
        found.append(principal)
    if len({p.user.id for p in found}) > 1:
        log.warning(
            "auth.credential_conflict",
            users=sorted({p.user.id for p in found}),
            via=[p.via for p in found],
            path=request.url.path,
        )
        conflict = CredentialConflict()
        request.scope["figway_principal"] = conflict
        raise conflict
    result = _merge(found) if found else None
    request.scope["figway_principal"] = result
    return result


async def get_principal(request: Request, session: SessionDep) -> Principal | None:
    """`resolve_principal`, with a conflict answered as "not authenticated" (401)."""
    try:
        return await resolve_principal(request, session)
    except CredentialConflict:
        raise (
            LegacyError(401, AUTH_REQUIRED_BODY)
            if _legacy_path(request)
            else Unauthorized("Credentials of different users in one request", code="credential_conflict")
        ) from None


def _legacy_path(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/admin/")) or path in LEGACY_AUTH_PATHS


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
    """The caller of the playlists routes. Legacy reads the cookie's `username` and nothing else
    (a revoked session, or a cookie naming only a username, still opens that user's playlists);
    the services use the one principal of the request instead (registry: playlists-principal)."""
    principal = await get_principal(request, session)
    if principal is None:
        raise legacy_error(401, "User not found")
    return principal.user


SessionUserDep = Annotated[User, Depends(get_session_user)]
