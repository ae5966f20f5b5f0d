"""`/auth`: legacy's session endpoints (same contract) and the token endpoints.

Legacy contract (legacy_flask/auth/routes.py, byte for byte):
    POST /auth/login     JSON or form -> MVidarr's login answer + the `mvidarr_session` cookie
    POST /auth/logout    revokes the session row (and any refresh family / token of the caller)
    GET  /auth/check     {"authenticated": bool, "user"?}
    GET  /auth/session   the session row, user and permissions, or the legacy 401

New (structured errors):
    POST /auth/token             username + password (JSON or form) -> access token + refresh cookie
    POST /auth/refresh           refresh cookie -> new access token, rotated refresh cookie
    GET  /auth/me                the caller, their effective role and how they authenticated
    POST /auth/session-exchange  a valid legacy session cookie -> tokens
    POST|GET /auth/api-keys, DELETE /auth/api-keys/{id}      admin: integration keys
    PUT  /auth/users/{id}/role   admin: change a user's role

Handlers that refuse after writing (failed-login count, revoked family, audit row) return
their error response instead of raising it, so the request's transaction still commits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from werkzeug.http import dump_cookie

from services._bounds import StorableIntPath, check_value
from services._legacy_http import json_body

# Legacy's JSON bytes (sorted keys, ASCII escapes, trailing newline) under the familiar name.
from services._legacy_json import LegacyJSONResponse as JSONResponse
from services.auth import audit
from services.auth._forms import parse_form
from services.auth.access import AUTHENTICATED, PUBLIC, access_rule, require_role
from services.auth.current_user import (
    AUTH_REQUIRED_BODY,
    CredentialConflict,
    PrincipalDep,
    legacy_session,
    resolve_principal,
)
from services.auth.flask_session import dump_session
from services.auth.models import ApiKey
from services.auth.network import client_ip
from services.auth.ratelimit import login_keys
from services.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyRead, MeRead, RoleUpdate
from services.auth.service import (
    INVALID_CREDENTIALS,
    AuthError,
    RefreshError,
    authenticate,
    check_password,
    create_api_key,
    create_session,
    family_of,
    find_login_user,
    find_valid_session,
    issue_refresh,
    revoke_family,
    revoke_session,
    revoke_session_rows,
    role_permissions,
    rotate_refresh,
    user_dict,
    user_summary,
)
from services.auth.state import auth_state
from services.db import SessionDep
from services.errors import (
    BadRequest,
    Conflict,
    LegacyError,
    NotFound,
    Unauthorized,
    is_legacy_route,
    service_error_response,
)
from services.models import User, UserRole, UserSession, utcnow
from services.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"])
log = structlog.get_logger("services.auth")

TOO_MANY_ATTEMPTS = "Too many login attempts. Try again later."
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _ip(request: Request) -> str | None:
    return client_ip(request, auth_state(request).trusted_proxies)


def _agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


async def _credentials(request: Request) -> tuple[str, str]:
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


def _set_session_cookie(response: JSONResponse, settings: Settings, user: User, row: UserSession) -> None:
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
    # werkzeug's own cookie writer: the header is byte for byte the one Flask sends.
    expires = datetime.now(UTC) + timedelta(seconds=settings.session_lifetime_seconds)
    response.headers.append(
        "set-cookie",
        dump_cookie(
            settings.session_cookie_name,
            value,
            expires=expires,
            path="/",
            secure=settings.session_cookie_secure,
            httponly=True,
            samesite="Lax",
        ),
    )


def _clear_session_cookie(response: JSONResponse, settings: Settings) -> None:
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


def _set_refresh_cookie(response: JSONResponse, settings: Settings, token: str) -> None:
    response.set_cookie(
        settings.refresh_cookie_name,
        token,
        max_age=settings.refresh_token_ttl_seconds,
        path=settings.refresh_cookie_path,
        secure=settings.refresh_cookie_secure,
        httponly=True,
        samesite=settings.refresh_cookie_samesite,
    )


def _clear_refresh_cookie(response: JSONResponse, settings: Settings) -> None:
    response.delete_cookie(
        settings.refresh_cookie_name,
        path=settings.refresh_cookie_path,
        secure=settings.refresh_cookie_secure,
        httponly=True,
        samesite=settings.refresh_cookie_samesite,
    )


async def _audit_refusal(session: AsyncSession, request: Request, username: str, exc: AuthError) -> None:
    user = exc.user
    await audit.record(
        session,
        "login.locked" if exc.reason == "locked_now" else "login.failure",
        user_id=user.id if user else None,
        username=username,
        ip=_ip(request),
        user_agent=_agent(request),
        reason=exc.reason,
        route=request.url.path,
    )


# --- legacy contract -------------------------------------------------------------------------


@router.post("/login", dependencies=[PUBLIC])
async def login(request: Request, session: SessionDep) -> JSONResponse:
    settings = _settings(request)
    username, password = await _credentials(request)
    if not username or not password:
        return JSONResponse({"error": "Username and password are required"}, status_code=400)
    ip = _ip(request)
    # Legacy's rule and nothing more: five failures lock the account (counted atomically, see
    # `authenticate`); no per-address limit, which would lock out everyone behind one NAT.
    try:
        user = await authenticate(
            session, username=username, password=password, ip=ip, factory=request.app.state.sessionmaker
        )
    except AuthError as exc:
        await _audit_refusal(session, request, username, exc)
        return JSONResponse({"error": str(exc)}, status_code=401)
    row = await create_session(
        session,
        user=user,
        ip=ip,
        user_agent=_agent(request),
        lifetime=timedelta(seconds=settings.session_lifetime_seconds),
    )
    await audit.record(
        session, "login.success", user_id=user.id, username=user.username, ip=ip, user_agent=_agent(request)
    )
    response = JSONResponse(
        {
            "success": True,
            "message": "Login successful",
            "user": user_summary(user),
            "session": {"token": row.session_token},
        }
    )
    _set_session_cookie(response, settings, user, row)
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, principal: PrincipalDep) -> JSONResponse:
    """Legacy's logout, widened: it also revokes the caller's refresh family (cookie or token)."""
    settings = _settings(request)
    families: set[str] = set()
    refresh = request.cookies.get(settings.refresh_cookie_name)
    if refresh:
        family = await family_of(session, token=refresh)
        if family is not None:
            families.add(family)
    if principal is not None and principal.family_id is not None:
        families.add(principal.family_id)
    for family in families:
        await revoke_family(session, family_id=family)  # and the legacy session of its login
    token = legacy_session(request).get("session_token")
    revoked_session = await revoke_session(session, token=token) if isinstance(token, str) else False
    if principal is not None and principal.session_id is not None:
        await revoke_session_rows(session, ids=[principal.session_id])
    auth_state(request).session_links.forget()
    if principal is None:
        response = JSONResponse(AUTH_REQUIRED_BODY, status_code=401)
    else:
        await audit.record(
            session,
            "logout",
            user_id=principal.user.id,
            username=principal.user.username,
            ip=_ip(request),
            user_agent=_agent(request),
            via=principal.via,
            families_revoked=len(families),
            session_revoked=revoked_session,
        )
        response = JSONResponse({"success": True, "message": "Logout successful"})
    if request.cookies.get(settings.session_cookie_name) and principal is not None:
        _clear_session_cookie(response, settings)
    if refresh:
        _clear_refresh_cookie(response, settings)
    return response


# Any credential; without one, legacy's 401 (answered by the handler, which must still commit).
access_rule("authenticated")(logout)


@router.get("/check", dependencies=[PUBLIC])
async def check(request: Request, session: SessionDep) -> JSONResponse:
    try:
        principal = await resolve_principal(request, session)
    except CredentialConflict:  # two users at once is nobody
        principal = None
    if principal is None:
        return JSONResponse({"authenticated": False})
    return JSONResponse({"authenticated": True, "user": user_dict(principal.user)})


@router.get("/session")
async def session_info(request: Request, session: SessionDep) -> JSONResponse:
    row = await require_legacy_session(request, session)
    user = row.user
    return JSONResponse(
        {
            "session": {
                "id": row.id,
                "status": row.status.value,
                "ip_address": row.ip_address,
                "user_agent": row.user_agent,
                "created_at": row.created_at.isoformat() if row.created_at else None,
                "last_activity": row.last_activity.isoformat() if row.last_activity else None,
                "expires_at": row.expires_at.isoformat(),
            },
            "user": user_dict(user),
            "permissions": role_permissions(user.role),
        }
    )


# The handler calls the rule itself (its row is the answer); the route still states it.
access_rule("legacy session")(session_info)


# --- tokens ----------------------------------------------------------------------------------


async def _token_response(
    request: Request,
    session: AsyncSession,
    user: User,
    *,
    role: UserRole,
    session_id: int,
    status_code: int = 200,
) -> JSONResponse:
    """Access token + refresh cookie, both tied to the `user_sessions` row `session_id`."""
    settings = _settings(request)
    state = auth_state(request)
    issued = await issue_refresh(
        session,
        user_id=user.id,
        ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        session_id=session_id,
        ip=_ip(request),
        user_agent=_agent(request),
    )
    access = state.codec.issue(
        user_id=user.id, role=role, family_id=issued.family_id, session_id=issued.session_id
    )
    response = JSONResponse(
        {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": settings.access_token_ttl_seconds,
            "user": user_summary(user),
        },
        status_code=status_code,
        headers=NO_STORE,
    )
    _set_refresh_cookie(response, settings, issued.token)
    return response


@router.post("/token", dependencies=[PUBLIC])
async def token(request: Request, session: SessionDep) -> JSONResponse:
    """Tokens for a username and password. Throttled by a progressive delay per account and
    per address (services/auth/ratelimit.py), never by locking the account; every refusal is
    the same `invalid_credentials` answer, whatever the reason."""
    settings = _settings(request)
    username, password = await _credentials(request)
    if not username or not password:
        raise BadRequest("username and password are required", code="missing_credentials")
    ip = _ip(request)
    state = auth_state(request)
    user = await find_login_user(session, username=username)
    reservation = await state.limiter.reserve(
        login_keys(user_id=user.id if user else None, username=username, ip=ip)
    )
    if reservation.wait is not None:
        await state.limiter.refund(reservation)
        await audit.record(
            session,
            "login.rate_limited",
            username=username,
            ip=ip,
            user_agent=_agent(request),
            route="/auth/token",
        )
        response = service_error_response(request, 429, "rate_limited", TOO_MANY_ATTEMPTS)
        response.headers["Retry-After"] = str(reservation.wait)
        return response
    if user is None or not await check_password(session, user=user, password=password):
        await audit.record(
            session,
            "login.failure",
            user_id=user.id if user else None,
            username=username,
            ip=ip,
            user_agent=_agent(request),
            reason="unknown_user" if user is None else "refused",
            route="/auth/token",
        )
        return service_error_response(request, 401, "invalid_credentials", INVALID_CREDENTIALS)
    await state.limiter.refund(reservation)
    await session.execute(
        update(User).where(User.id == user.id).values(last_login=utcnow(), last_login_ip=ip)
    )
    await audit.record(
        session,
        "login.success",
        user_id=user.id,
        username=user.username,
        ip=ip,
        user_agent=_agent(request),
        via="token",
    )
    # Every token login is a `user_sessions` row: the tokens live and die with it.
    row = await create_session(
        session,
        user=user,
        ip=ip,
        user_agent=_agent(request),
        lifetime=timedelta(seconds=settings.session_lifetime_seconds),
    )
    response = await _token_response(request, session, user, role=user.role, session_id=row.id)
    if settings.token_login_opens_legacy_session:
        _set_session_cookie(response, settings, user, row)
    return response


@access_rule("refresh cookie")
async def refresh_cookie_rule() -> None:
    return None


@router.post("/refresh", dependencies=[Depends(refresh_cookie_rule)])
async def refresh(request: Request, session: SessionDep) -> JSONResponse:
    settings = _settings(request)
    presented = request.cookies.get(settings.refresh_cookie_name)
    if not presented:
        raise Unauthorized("No refresh token", code="invalid_refresh_token")
    try:
        user, issued = await rotate_refresh(
            session,
            token=presented,
            ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
            session_lifetime=timedelta(seconds=settings.session_lifetime_seconds),
            ip=_ip(request),
            user_agent=_agent(request),
        )
    except RefreshError as exc:
        auth_state(request).session_links.forget()
        if exc.reason == "reused":
            await audit.record(
                session,
                "refresh.reuse",
                user_id=exc.user_id,
                ip=_ip(request),
                user_agent=_agent(request),
                family_id=exc.family_id,
            )
        response = service_error_response(
            request, 401, "invalid_refresh_token", "Refresh token is invalid, expired or revoked"
        )
        _clear_refresh_cookie(response, settings)
        return response
    access = auth_state(request).codec.issue(
        user_id=user.id, role=user.role, family_id=issued.family_id, session_id=issued.session_id
    )
    log.info("auth.refresh.rotated", user_id=user.id, family_id=issued.family_id, ip=_ip(request))
    response = JSONResponse(
        {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": settings.access_token_ttl_seconds,
            "user": user_summary(user),
        },
        headers=NO_STORE,
    )
    _set_refresh_cookie(response, settings, issued.token)
    return response


@router.post("/session-exchange")
async def session_exchange(request: Request, session: SessionDep) -> JSONResponse:
    row = await require_legacy_session(request, session)
    await audit.record(
        session,
        "session.exchanged",
        user_id=row.user.id,
        username=row.user.username,
        ip=_ip(request),
        user_agent=_agent(request),
    )
    return await _token_response(request, session, row.user, role=row.user.role, session_id=row.id)


access_rule("legacy session")(session_exchange)


@router.get("/me", response_model=MeRead, dependencies=[AUTHENTICATED])
async def me(principal: PrincipalDep) -> MeRead:
    assert principal is not None  # AUTHENTICATED ran first
    return MeRead(
        user=user_dict(principal.user),
        role=principal.role,
        auth=principal.via,
        permissions=role_permissions(principal.role),
    )


# --- administration --------------------------------------------------------------------------

ADMIN = require_role(UserRole.ADMIN)


def _key_read(row: ApiKey) -> dict[str, Any]:
    return ApiKeyRead.model_validate(row, from_attributes=True).model_dump()


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, dependencies=[ADMIN])
async def create_key(
    body: ApiKeyCreate, request: Request, session: SessionDep, principal: PrincipalDep
) -> ApiKeyCreated:
    assert principal is not None
    owner = principal.user if body.user_id is None else await session.get(User, body.user_id)
    if owner is None:
        raise NotFound("No such user", code="user_not_found")
    row, key = await create_api_key(
        session, name=body.name, user=owner, role=body.role, created_by=principal.user.id
    )
    await audit.record(
        session,
        "api_key.created",
        user_id=principal.user.id,
        username=principal.user.username,
        ip=_ip(request),
        user_agent=_agent(request),
        key_id=row.id,
        key_user_id=owner.id,
        role=row.role,
    )
    return ApiKeyCreated(**_key_read(row), key=key)


@router.get("/api-keys", response_model=ApiKeyList, dependencies=[ADMIN])
async def list_keys(session: SessionDep) -> ApiKeyList:
    rows = (await session.scalars(select(ApiKey).order_by(ApiKey.id))).all()
    return ApiKeyList(api_keys=[ApiKeyRead.model_validate(r, from_attributes=True) for r in rows])


@router.delete("/api-keys/{key_id}", response_model=ApiKeyRead, dependencies=[ADMIN])
async def revoke_key(
    key_id: StorableIntPath, request: Request, session: SessionDep, principal: PrincipalDep
) -> ApiKeyRead:
    assert principal is not None
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound("No such API key", code="api_key_not_found")
    if row.revoked_at is None:
        await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
        await session.refresh(row)
        await audit.record(
            session,
            "api_key.revoked",
            user_id=principal.user.id,
            username=principal.user.username,
            ip=_ip(request),
            user_agent=_agent(request),
            key_id=key_id,
        )
    return ApiKeyRead.model_validate(row, from_attributes=True)


@router.put("/users/{user_id}/role", dependencies=[ADMIN])
async def change_role(
    user_id: StorableIntPath, body: RoleUpdate, request: Request, session: SessionDep, principal: PrincipalDep
) -> dict[str, object]:
    assert principal is not None
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such user", code="user_not_found")
    if user.id == principal.user.id:
        raise Conflict("Administrators cannot change their own role", code="own_role")
    old = user.role
    user.role = body.role
    await session.flush()
    await audit.record(
        session,
        "role.changed",
        user_id=principal.user.id,
        username=principal.user.username,
        ip=_ip(request),
        user_agent=_agent(request),
        target_user_id=user.id,
        old_role=old.value,
        new_role=body.role.value,
    )
    return {"user": user_dict(user)}
