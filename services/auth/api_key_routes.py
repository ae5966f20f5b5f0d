"""`/auth/api-keys`: integration keys (admin only).

POST /auth/api-keys            create a key (its secret is shown once)
GET  /auth/api-keys            list the keys
DELETE /auth/api-keys/{id}     revoke a key
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select, update

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
from services.auth.models import ApiKey
from services.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyRead
from services.auth.service import (
    create_api_key,
)
from services.db import SessionDep
from services.errors import (
    NotFound,
)
from services.models import User, UserRole, utcnow

router = APIRouter()  # mounted by services/auth/router.py (prefix /auth)
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
        ip=request_ip(request),
        user_agent=request_agent(request),
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
            ip=request_ip(request),
            user_agent=request_agent(request),
            key_id=key_id,
        )
    return ApiKeyRead.model_validate(row, from_attributes=True)
