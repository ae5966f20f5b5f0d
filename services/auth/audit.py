"""The audit trail: one `auth_audit_log` row and one structlog event per auth action.

Callers pass who, what and from where; `detail` holds only non-secret facts (a role, a key
id, a reason). Nothing here ever receives a password, a token or a key.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import AuditEntry
from services.models import utcnow

log = structlog.get_logger("services.auth")


async def record(
    session: AsyncSession,
    event: str,
    *,
    user_id: int | None = None,
    username: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    **detail: Any,
) -> None:
    if username is not None:
        username = username[:120]  # a login form accepts anything; rows and log lines stay bounded
    session.add(
        AuditEntry(
            at=utcnow(),
            event=event,
            user_id=user_id,
            username=username,
            ip_address=ip,
            user_agent=user_agent,
            detail=detail or None,
        )
    )
    await session.flush()
    log.info(f"auth.{event}", user_id=user_id, username=username, ip=ip, **detail)
