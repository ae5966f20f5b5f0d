"""Request and response bodies of the new auth endpoints (the legacy ones answer plain dicts)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.models import UserRole


class MeRead(BaseModel):
    user: dict[str, object]
    role: UserRole
    auth: str
    permissions: dict[str, bool]


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: UserRole
    user_id: int | None = None  # defaults to the admin creating it


class ApiKeyRead(BaseModel):
    id: int
    name: str
    prefix: str
    role: UserRole
    user_id: int
    created_by: int | None
    created_at: datetime
    last_used_at: datetime | None
    last_used_ip: str | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str  # shown once; only its sha256 is stored


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyRead]


class RoleUpdate(BaseModel):
    role: UserRole
