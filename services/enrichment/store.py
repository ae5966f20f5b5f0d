"""Enrichment's database access: one short read before the providers are asked, one short
write after they answered, each on a pooled connection held only for its statements.

- Core statements on a plain `AsyncConnection`: no ORM session, identity map or flush on the
  hot path (the session's machinery was most of SQLAlchemy's share of the enrichment profile).
- On MariaDB both run on the autocommit engine (`services.db`): the read is one round trip,
  and the write is its UPDATE alone, committed by the server as it runs (no COMMIT to send).
  A conflicting IMVDb id is looked up first, as before; that read never held a lock either.
- A gate sized to the pool admits the database work of a burst of enrichments in arrival
  order. Without it, 256 enrichments answering at once took the 16 pooled connections and
  opened up to 20 overflow ones (a TCP + auth handshake each, closed again on return) while
  the rest waited in the pool's own queue.
- SQLite has one writer at a time: writers queue on `write_lock` and are kept one pooled
  connection that readers never take (the readers' gate is one smaller than the pool), so
  the writer holding the lock never waits behind a queue of readers for a connection. That
  wait, with every other writer queued behind the lock, is what collapsed throughput at c=256.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool

from services.settings import Settings


@dataclass
class EnrichmentStore:
    engine: AsyncEngine
    gate: asyncio.Semaphore
    write_lock: asyncio.Lock | None = None

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.gate, self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one write; the caller commits (a no-op round trip on MariaDB's
        autocommit connections). Leaving without a commit rolls back."""
        if self.write_lock is not None:
            async with self.write_lock, self.engine.connect() as conn:
                yield conn
        else:
            async with self.gate, self.engine.connect() as conn:
                yield conn


def create_store(settings: Settings, engine: AsyncEngine, read_engine: AsyncEngine) -> EnrichmentStore:
    """`read_engine` is the autocommit engine on MariaDB and `engine` itself on SQLite."""
    pool = read_engine.pool
    size = pool.size() if isinstance(pool, QueuePool) else 1
    if settings.is_sqlite:
        return EnrichmentStore(engine, asyncio.Semaphore(max(1, size - 1)), asyncio.Lock())
    return EnrichmentStore(read_engine, asyncio.Semaphore(size))
