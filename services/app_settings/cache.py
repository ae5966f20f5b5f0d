"""The services' read-through cache of the `settings` table.

Unlike legacy's per-process cache, which never looks at the table again, this one keeps a
value for at most `settings_cache_ttl` seconds and forgets a key as soon as the services
write it. So a value written through legacy is seen here within the TTL, and a value written
here is seen here at once. (Legacy's own cache is the side that goes stale; see the note in
`router.py` about routing reads and writes together.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.models import Setting

# Where a value is read from: a request's session, or a plain connection (enrichment's).
Reader = AsyncSession | AsyncConnection

_TRUE = {"true", "1", "yes", "on"}


@dataclass
class SettingsCache:
    ttl: float
    _values: dict[str, tuple[float, str | None]] = field(default_factory=dict)

    async def get(self, session: Reader, key: str) -> str | None:
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = await session.scalar(select(Setting.value).where(Setting.key == key))
        self._values[key] = (now, value)
        return value

    async def get_bool(self, session: Reader, key: str, default: bool = False) -> bool:
        value = await self.get(session, key)
        if value is None:
            return default
        return value.strip().lower() in _TRUE

    def invalidate(self, *keys: str) -> None:
        for key in keys:
            self._values.pop(key, None)

    def clear(self) -> None:
        self._values.clear()
