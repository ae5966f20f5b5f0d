"""`/auth/users`: user administration (admin only).

PUT  /auth/users/{id}/role   change a user's role
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from services._bounds import StorableIntPath

# Legacy's JSON bytes (sorted keys, ASCII escapes, trailing newline) under the familiar name.
from services.auth import audit
from services.auth._route_support import (
    request_agent,
    request_ip,
)
from services.auth.access import require_role
from services.auth.current_user import (
    PrincipalDep,
)
from services.auth.schemas import RoleUpdate
from services.auth.service import (
    user_dict,
)
from services.db import SessionDep
from services.errors import (
    Conflict,
    NotFound,
)
from services.models import User, UserRole

router = APIRouter()  # mounted by services/auth/router.py (prefix /auth)
ADMIN = require_role(UserRole.ADMIN)


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
        ip=request_ip(request),
        user_agent=request_agent(request),
        target_user_id=user.id,
        old_role=old.value,
        new_role=body.role.value,
    )
    return {"user": user_dict(user)}
