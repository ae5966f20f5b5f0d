"""Routing-table revisions in Redis, shared by every gateway replica and the CLI (``REDIS_URL``).

Layout: a counter ``<prefix>:history:next`` (``INCR``: two replicas never get the same number), a
list ``<prefix>:history:numbers`` (newest first) and one hash ``<prefix>:history:rev:<n>`` per
revision (``sha256`` and the JSON ``data``). One Lua script compares with the newest, numbers,
stores and trims, atomically: of several replicas reloading the same edit, one records it.
"""

from __future__ import annotations

import json
from typing import Any

from redis import Redis

from gateway.revisions import DEFAULT_KEEP, Revision

_APPEND = """
local numbers, rev = KEYS[1], ARGV[4]
if ARGV[3] == '1' then
  local newest = redis.call('LINDEX', numbers, 0)
  if newest and redis.call('HGET', rev .. newest, 'sha256') == ARGV[1] then return 0 end
end
local n = redis.call('INCR', KEYS[2])
redis.call('HSET', rev .. n, 'sha256', ARGV[1], 'data', ARGV[2])
redis.call('LPUSH', numbers, n)
local keep = tonumber(ARGV[5])
for _, old in ipairs(redis.call('LRANGE', numbers, keep, -1)) do redis.call('DEL', rev .. old) end
redis.call('LTRIM', numbers, 0, keep - 1)
return n
"""


class RedisRevisionStore:
    def __init__(
        self, url: str, *, prefix: str = "figway", keep: int = DEFAULT_KEEP, client: Redis | None = None
    ) -> None:
        self._redis: Redis = client or Redis.from_url(url, decode_responses=True, socket_timeout=2.0)
        self.keep = keep
        self._numbers = f"{prefix}:history:numbers"
        self._next = f"{prefix}:history:next"
        self._rev = f"{prefix}:history:rev:"

    def append(self, revision: Revision, *, unless_newest: bool = True) -> Revision | None:
        data = json.dumps(revision.as_json())
        number = int(
            self._redis.eval(
                _APPEND,
                2,
                self._numbers,
                self._next,
                revision.sha256,
                data,
                "1" if unless_newest else "0",
                self._rev,
                str(self.keep),
            )
        )
        if number == 0:
            return None
        return Revision.from_json({**revision.as_json(), "number": number})

    def get(self, number: int) -> Revision | None:
        raw: Any = self._redis.hget(f"{self._rev}{number}", "data")
        if raw is None:
            return None
        return Revision.from_json({**json.loads(raw), "number": number})

    def recent(self, limit: int) -> list[Revision]:
        numbers: Any = self._redis.lrange(self._numbers, 0, limit - 1)
        return [rev for rev in (self.get(int(n)) for n in numbers) if rev is not None]

    def close(self) -> None:
        self._redis.close()
