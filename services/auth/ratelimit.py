"""Login throttling for `/auth/token`: reserve an attempt first, then decide (never check-then-act).

Every attempt is recorded *before* its password is checked, in a transaction of its own that
commits at once; then the attempts of each key inside the window are counted, its own included.
Of N concurrent attempts each sees a different count, so a burst checks at most `attempts`
passwords per key, whichever worker or replica serves it. A refused attempt and a successful one
are refunded (their record deleted): only checked, failed passwords weigh on later attempts.

Beyond `attempts` failures in the window, an attempt waits: the n-th extra one only after
1, 2, 4 ... seconds (at most `max_delay`) since the previous attempt of that key. A delay, not a
lock: nobody can shut the owner out of an account for long by typing wrong passwords.

Keys: `user:<id>` for an existing account (so `Admin`, `ADMİN` and `admín`, which MariaDB's
case- and accent-insensitive collation resolves to one row, are one key), `name:<folded name>`
otherwise, and `ip:<address>`. They are stored hashed: the table never holds a name or address.

`LoginLimiter` is the interface; `DatabaseLoginLimiter` keeps the attempts in
`auth_login_failures` (every worker and host sees them); `RedisLoginLimiter`
(services/auth/ratelimit_redis.py) does the same in Redis.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import case, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth.models import LoginFailure
from services.auth.tokens import digest
from services.models import utcnow

PRUNE_BATCH = 500


def fold_name(username: str) -> str:
    """Case- and accent-free form of a login name (NFKD without combining marks, casefolded)."""
    decomposed = unicodedata.normalize("NFKD", username.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def login_keys(*, user_id: int | None, username: str, ip: str | None) -> list[str]:
    keys = [f"user:{user_id}" if user_id is not None else f"name:{fold_name(username)}"]
    if ip:
        keys.append(f"ip:{ip}")
    return keys


@dataclass(frozen=True, slots=True)
class DelayPolicy:
    """`attempts` free failures per key in the window, then base, 2*base, 4*base ... seconds
    (at most `max_delay`) between one attempt and the previous."""

    attempts: int
    max_delay: float = 300.0
    base: float = 1.0

    def gap(self, count: int) -> float:
        """Seconds the `count`-th attempt in the window must leave after the previous one."""
        if count <= self.attempts:
            return 0.0
        return float(min(self.max_delay, self.base * 2 ** min(count - self.attempts - 1, 30)))

    def wait(self, count: int, elapsed: float | None) -> int | None:
        """Seconds still to wait, or None when the attempt may go ahead."""
        gap = self.gap(count)
        if gap <= 0 or elapsed is None or elapsed >= gap:
            return None
        return max(1, math.ceil(gap - elapsed))


@dataclass
class Reservation:
    """One attempt, recorded. `wait` set: refused, retry after that many seconds."""

    wait: int | None
    tokens: list[object] = field(default_factory=list)


class LoginLimiter(Protocol):
    async def reserve(self, keys: Sequence[str]) -> Reservation: ...

    async def refund(self, reservation: Reservation) -> None:
        """Forget the attempt (a refused or successful one does not count)."""


class DatabaseLoginLimiter:
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession] | None = None,
        *,
        policy: DelayPolicy,
        window_seconds: int,
    ) -> None:
        self.factory = factory
        self.policy = policy
        self.window = timedelta(seconds=window_seconds)

    def bind(self, factory: async_sessionmaker[AsyncSession]) -> None:
        """The engine exists only once the app starts (lifespan)."""
        self.factory = factory

    def _factory(self) -> async_sessionmaker[AsyncSession]:
        assert self.factory is not None, "DatabaseLoginLimiter used before the app started"
        return self.factory

    async def reserve(self, keys: Sequence[str]) -> Reservation:
        now = utcnow()
        since = now - self.window
        hashes = [digest(k) for k in keys]
        # A transaction with nothing but the INSERT: on MariaDB a range DELETE beside it would take
        # gap locks that concurrent reservations deadlock on.
        async with self._factory()() as session, session.begin():
            rows = [LoginFailure(key_hash=h, at=now) for h in hashes]
            session.add_all(rows)
            await session.flush()
            ids = [row.id for row in rows]
        # Counted in a new transaction, after our own commit: every earlier reservation is visible.
        wait: int | None = None
        async with self._factory()() as session, session.begin():
            for key_hash, own in zip(hashes, ids, strict=True):
                count, previous = (
                    await session.execute(
                        select(
                            func.count(LoginFailure.id),
                            func.max(case((LoginFailure.id != own, LoginFailure.at))),
                        ).where(LoginFailure.key_hash == key_hash, LoginFailure.at > since)
                    )
                ).one()
                elapsed = (now - previous).total_seconds() if isinstance(previous, datetime) else None
                found = self.policy.wait(count, elapsed)
                if found is not None:
                    wait = max(wait or 0, found)
            stale = list(
                await session.scalars(
                    select(LoginFailure.id)
                    .where(LoginFailure.key_hash.in_(hashes), LoginFailure.at <= since)
                    .limit(PRUNE_BATCH)
                )
            )
        if stale:  # old entries of these keys are dead weight: drop them by primary key
            await self._delete(stale)
        return Reservation(wait, list(ids))

    async def _delete(self, ids: list[int]) -> None:
        async with self._factory()() as session, session.begin():
            await session.execute(delete(LoginFailure).where(LoginFailure.id.in_(ids)))

    async def refund(self, reservation: Reservation) -> None:
        ids = [i for i in reservation.tokens if isinstance(i, int)]
        if ids:
            await self._delete(ids)
