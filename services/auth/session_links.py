"""Is the login behind an access token still on? Cached for a few seconds at most.

An access token carries `sid` (its `user_sessions` row) and `fam` (its refresh family). Legacy
ends a login by marking the row REVOKED, and legacy is never changed, so the services read the
row: a token is good while its row is ACTIVE, unexpired and its user's, and its family is not
revoked. The answer is kept `ttl` seconds (`SESSION_CHECK_TTL_SECONDS`, at most 5), so a logout
on either app ends the tokens within that time; a revocation by this process clears the cache.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.service import family_is_revoked, session_is_live

MAX_ENTRIES = 10_000


class SessionLinks:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._seen: dict[tuple[int, int, str | None], tuple[bool, float]] = {}

    async def alive(
        self, session: AsyncSession, *, session_id: int, user_id: int, family_id: str | None
    ) -> bool:
        key = (session_id, user_id, family_id)
        now = time.monotonic()
        cached = self._seen.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        ok = await session_is_live(session, session_id=session_id, user_id=user_id)
        if ok and family_id is not None:
            ok = not await family_is_revoked(session, family_id=family_id)
        if self.ttl > 0:
            if len(self._seen) >= MAX_ENTRIES:
                self._seen.clear()
            self._seen[key] = (ok, now + self.ttl)
        return ok

    def forget(self) -> None:
        """A revocation here: nothing cached may outlive it in this process."""
        self._seen.clear()
