"""Login rate limit: at most N failed logins per username and per client address in a window.

`LoginLimiter` is the one-method-each interface the routes use; `DatabaseLoginLimiter` keeps
the failures in `auth_login_failures`, so every worker (and every host) sees the same count.
A Redis implementation can replace it behind the same interface. Keys are hashed: the table
never holds a username or an address in clear.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import LoginFailure
from services.auth.tokens import digest
from services.models import utcnow


def login_keys(username: str, ip: str | None) -> list[str]:
    keys = [f"user:{username.strip().lower()}"]
    if ip:
        keys.append(f"ip:{ip}")
    return keys


class LoginLimiter(Protocol):
    async def retry_after(self, session: AsyncSession, keys: Sequence[str]) -> int | None:
        """Seconds to wait when any key is over its limit, else None."""

    async def record_failure(self, session: AsyncSession, keys: Sequence[str]) -> None: ...


class DatabaseLoginLimiter:
    def __init__(self, *, attempts: int, window_seconds: int) -> None:
        self.attempts = attempts
        self.window = timedelta(seconds=window_seconds)

    async def retry_after(self, session: AsyncSession, keys: Sequence[str]) -> int | None:
        now = utcnow()
        since = now - self.window
        wait = 0.0
        for key in keys:
            count, oldest = (
                await session.execute(
                    select(func.count(LoginFailure.id), func.min(LoginFailure.at)).where(
                        LoginFailure.key_hash == digest(key), LoginFailure.at > since
                    )
                )
            ).one()
            if count >= self.attempts and oldest is not None:
                wait = max(wait, (oldest + self.window - now).total_seconds())
        return max(1, math.ceil(wait)) if wait > 0 else None

    async def record_failure(self, session: AsyncSession, keys: Sequence[str]) -> None:
        now = utcnow()
        hashes = [digest(k) for k in keys]
        # Old entries of these keys are dead weight; prune them as we go.
        await session.execute(
            delete(LoginFailure).where(
                LoginFailure.key_hash.in_(hashes), LoginFailure.at <= now - self.window
            )
        )
        session.add_all(LoginFailure(key_hash=h, at=now) for h in hashes)
        await session.flush()
