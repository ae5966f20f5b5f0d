"""`/admin/api/users/*` with legacy's contract (legacy_flask/api/admin.py), admin only.

routing.yaml's `admin-write` sends every `POST /admin/*` to services from 2027-W07, so the two
user-administration forms of legacy's admin page must answer here exactly as there: the role
comes from a form field (`request.form["role"]`, any case, surrounding blanks ignored), a
JSON body is no form (400 "Invalid role"), checks run in legacy's order (admin, then input,
then the user's existence), and an admin may change their own role but not deactivate
themselves.
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request

from services._bounds import row_id
from services._legacy_json import LegacyJSONResponse
from services.auth._forms import parse_form
from services.auth.current_user import Principal
from services.db import SessionDep
from services.models import User, UserRole
from services.system.admin_router import ADMIN_REQUIRED

log = structlog.get_logger("services.admin")

router = APIRouter(prefix="/admin/api/users", tags=["admin"])


def _not_found() -> LegacyJSONResponse:
    return LegacyJSONResponse({"error": "User not found"}, status_code=404)


@router.post("/{user_id:int}/role")
async def change_role(
    user_id: int, request: Request, session: SessionDep, principal: Principal = ADMIN_REQUIRED
) -> LegacyJSONResponse:
    form = parse_form(request.headers.get("content-type", ""), await request.body())
    role_name = str(form.get("role") or "").strip().upper()
    try:
        role = UserRole[role_name]
    except KeyError:
        return LegacyJSONResponse({"error": "Invalid role"}, status_code=400)
    user = await session.get(User, user_id) if row_id(user_id) is not None else None
    if user is None:
        return _not_found()
    old = user.role.value
    user.role = role
    await session.flush()
    log.info("admin.role_changed", user=user.username, old=old, new=role.value, by=principal.user.username)
    return LegacyJSONResponse(
        {"success": True, "message": f"User {user.username} role changed to {role.value}"}
    )


@router.post("/{user_id:int}/toggle-active")
async def toggle_active(
    user_id: int, session: SessionDep, principal: Principal = ADMIN_REQUIRED
) -> LegacyJSONResponse:
    if user_id == principal.user.id:
        return LegacyJSONResponse({"error": "Cannot deactivate your own account"}, status_code=400)
    user = await session.get(User, user_id) if row_id(user_id) is not None else None
    if user is None:
        return _not_found()
    user.is_active = not user.is_active
    await session.flush()
    action = "activated" if user.is_active else "deactivated"
    log.info(f"admin.user_{action}", user=user.username, by=principal.user.username)
    return LegacyJSONResponse(
        {
            "success": True,
            "message": f"User {user.username} {action} successfully",
            "action": action,
            "new_status": user.is_active,
        }
    )
