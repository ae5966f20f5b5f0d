"""`/auth` token endpoints (structured errors).

    POST /auth/token             username + password (JSON or form) -> access token + refresh cookie
    POST /auth/refresh           refresh cookie -> new access token, rotated refresh cookie
    POST /auth/session-exchange  a valid legacy session cookie -> tokens
    GET  /auth/me                the caller, their effective role and how they authenticated

Handlers that refuse after writing (revoked family, audit row) return their error response
instead of raising it, so the request's transaction still commits.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from fastapi import APIRouter, Depends, Request
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

# Legacy's JSON bytes (sorted keys, ASCII escapes, trailing newline) under the familiar name.
from services._legacy_json import LegacyJSONResponse as JSONResponse
from services.auth import audit
from services.auth._route_support import (
    NO_STORE,
    clear_refresh_cookie,
    read_credentials,
    request_agent,
    request_ip,
    request_settings,
    require_legacy_session,
    set_refresh_cookie,
    set_session_cookie,
)
from services.auth.access import AUTHENTICATED, PUBLIC, access_rule
from services.auth.current_user import (
    PrincipalDep,
)
from services.auth.ratelimit import login_keys
from services.auth.schemas import MeRead
from services.auth.service import (
    INVALID_CREDENTIALS,
    RefreshError,
    check_password,
    create_session,
    find_login_user,
    issue_refresh,
    role_permissions,
    rotate_refresh,
    user_dict,
    user_summary,
)
from services.auth.state import auth_state
from services.db import SessionDep
from services.errors import (
    BadRequest,
    Unauthorized,
    service_error_response,
)
from services.models import User, UserRole, utcnow

router = APIRouter()  # mounted by services/auth/router.py (prefix /auth)
log = structlog.get_logger("services.auth")

TOO_MANY_ATTEMPTS = "Too many login attempts. Try again later."


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
    settings = request_settings(request)
    state = auth_state(request)
    issued = await issue_refresh(
        session,
        user_id=user.id,
        ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        session_id=session_id,
        ip=request_ip(request),
        user_agent=request_agent(request),
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
    set_refresh_cookie(response, settings, issued.token)
    return response


@router.post("/token", dependencies=[PUBLIC])
async def token(request: Request, session: SessionDep) -> JSONResponse:
    """Tokens for a username and password. Throttled by a progressive delay per account and
    per address (services/auth/ratelimit.py), never by locking the account; every refusal is
    the same `invalid_credentials` answer, whatever the reason."""
    settings = request_settings(request)
    username, password = await read_credentials(request)
    if not username or not password:
        raise BadRequest("username and password are required", code="missing_credentials")
    ip = request_ip(request)
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
            user_agent=request_agent(request),
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
            user_agent=request_agent(request),
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
        user_agent=request_agent(request),
        via="token",
    )
    # Every token login is a `user_sessions` row: the tokens live and die with it.
    row = await create_session(
        session,
        user=user,
        ip=ip,
        user_agent=request_agent(request),
        lifetime=timedelta(seconds=settings.session_lifetime_seconds),
    )
    response = await _token_response(request, session, user, role=user.role, session_id=row.id)
    if settings.token_login_opens_legacy_session:
        set_session_cookie(response, settings, user, row)
    return response


@access_rule("refresh cookie")
async def refresh_cookie_rule() -> None:
    return None


@router.post("/refresh", dependencies=[Depends(refresh_cookie_rule)])
async def refresh(request: Request, session: SessionDep) -> JSONResponse:
    settings = request_settings(request)
    presented = request.cookies.get(settings.refresh_cookie_name)
    if not presented:
        raise Unauthorized("No refresh token", code="invalid_refresh_token")
    try:
        user, issued = await rotate_refresh(
            session,
            token=presented,
            ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
            session_lifetime=timedelta(seconds=settings.session_lifetime_seconds),
            ip=request_ip(request),
            user_agent=request_agent(request),
        )
    except RefreshError as exc:
        auth_state(request).session_links.forget()
        if exc.reason == "reused":
            await audit.record(
                session,
                "refresh.reuse",
                user_id=exc.user_id,
                ip=request_ip(request),
                user_agent=request_agent(request),
                family_id=exc.family_id,
            )
        response = service_error_response(
            request, 401, "invalid_refresh_token", "Refresh token is invalid, expired or revoked"
        )
        clear_refresh_cookie(response, settings)
        return response
    access = auth_state(request).codec.issue(
        user_id=user.id, role=user.role, family_id=issued.family_id, session_id=issued.session_id
    )
    log.info("auth.refresh.rotated", user_id=user.id, family_id=issued.family_id, ip=request_ip(request))
    response = JSONResponse(
        {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": settings.access_token_ttl_seconds,
            "user": user_summary(user),
        },
        headers=NO_STORE,
    )
    set_refresh_cookie(response, settings, issued.token)
    return response


@router.post("/session-exchange")
async def session_exchange(request: Request, session: SessionDep) -> JSONResponse:
    row = await require_legacy_session(request, session)
    await audit.record(
        session,
        "session.exchanged",
        user_id=row.user.id,
        username=row.user.username,
        ip=request_ip(request),
        user_agent=request_agent(request),
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
