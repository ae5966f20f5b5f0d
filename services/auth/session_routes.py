"""`/auth` legacy session endpoints (legacy_flask/auth/routes.py, byte for byte).

    POST /auth/login     JSON or form -> MVidarr's login answer + the `mvidarr_session` cookie
    POST /auth/logout    revokes the session row (and any refresh family / token of the caller)
    GET  /auth/check     {"authenticated": bool, "user"?}
    GET  /auth/session   the session row, user and permissions, or the legacy 401

Handlers that refuse after writing (failed-login count, audit row) return their error
response instead of raising it, so the request's transaction still commits.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

# Legacy's JSON bytes (sorted keys, ASCII escapes, trailing newline) under the familiar name.
from services._legacy_json import LegacyJSONResponse as JSONResponse
from services.auth import audit
from services.auth._route_support import (
    clear_refresh_cookie,
    clear_session_cookie,
    read_credentials,
    request_agent,
    request_ip,
    request_settings,
    require_legacy_session,
    set_session_cookie,
)
from services.auth.access import PUBLIC, access_rule
from services.auth.current_user import (
    AUTH_REQUIRED_BODY,
    CredentialConflict,
    PrincipalDep,
    legacy_session,
    resolve_principal,
)
from services.auth.service import (
    AuthError,
    authenticate,
    create_session,
    family_of,
    revoke_family,
    revoke_session,
    revoke_session_rows,
    role_permissions,
    user_dict,
    user_summary,
)
from services.auth.state import auth_state
from services.db import SessionDep

router = APIRouter()  # mounted by services/auth/router.py (prefix /auth)


async def _audit_refusal(session: AsyncSession, request: Request, username: str, exc: AuthError) -> None:
    user = exc.user
    await audit.record(
        session,
        "login.locked" if exc.reason == "locked_now" else "login.failure",
        user_id=user.id if user else None,
        username=username,
        ip=request_ip(request),
        user_agent=request_agent(request),
        reason=exc.reason,
        route=request.url.path,
    )


@router.post("/login", dependencies=[PUBLIC])
async def login(request: Request, session: SessionDep) -> JSONResponse:
    settings = request_settings(request)
    username, password = await read_credentials(request)
    if not username or not password:
        return JSONResponse({"error": "Username and password are required"}, status_code=400)
    ip = request_ip(request)
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
        user_agent=request_agent(request),
        lifetime=timedelta(seconds=settings.session_lifetime_seconds),
    )
    await audit.record(
        session,
        "login.success",
        user_id=user.id,
        username=user.username,
        ip=ip,
        user_agent=request_agent(request),
    )
    response = JSONResponse(
        {
            "success": True,
            "message": "Login successful",
            "user": user_summary(user),
            "session": {"token": row.session_token},
        }
    )
    set_session_cookie(response, settings, user, row)
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, principal: PrincipalDep) -> JSONResponse:
    """Legacy's logout, widened: it also revokes the caller's refresh family (cookie or token)."""
    settings = request_settings(request)
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
            ip=request_ip(request),
            user_agent=request_agent(request),
            via=principal.via,
            families_revoked=len(families),
            session_revoked=revoked_session,
        )
        response = JSONResponse({"success": True, "message": "Logout successful"})
    if request.cookies.get(settings.session_cookie_name) and principal is not None:
        clear_session_cookie(response, settings)
    if refresh:
        clear_refresh_cookie(response, settings)
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
