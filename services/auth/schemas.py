"""Request and response bodies of the new auth endpoints (the legacy ones answer plain dicts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from services._bounds import StorableInt
from services.models import UserRole


def _utc(value: datetime) -> datetime:
    # The tables store naive UTC (legacy's convention); the OpenAPI promises RFC 3339
    # `date-time`, which requires an offset.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


class MeRead(BaseModel):
    user: dict[str, object]
    role: UserRole
    auth: str
    permissions: dict[str, bool]


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: UserRole
    user_id: StorableInt | None = None  # defaults to the admin creating it


class ApiKeyRead(BaseModel):
    id: int
    name: str
    prefix: str
    role: UserRole
    user_id: int
    created_by: int | None
    created_at: UtcDateTime
    last_used_at: UtcDateTime | None
    last_used_ip: str | None
    revoked_at: UtcDateTime | None


class ApiKeyCreated(ApiKeyRead):
    key: str  # shown once; only its sha256 is stored


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyRead]


class RoleUpdate(BaseModel):
    role: UserRole
