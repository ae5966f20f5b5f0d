"""Enrichment's database access: one short read before the providers are asked, one short
write after they answered, each on a pooled connection held only for its statements.

- Core statements on a plain `AsyncConnection`: no ORM session, identity map or flush on the
  hot path (the session's machinery was most of SQLAlchemy's share of the enrichment profile).
- On MariaDB both run on the autocommit engine (`services.db`): the read is one round trip,
  and the write is its UPDATE alone, committed by the server as it runs (no COMMIT to send).
  A conflicting IMVDb id is looked up first, as before; that read never held a lock either.
- On MariaDB without tracing, the statements go straight to the driver's cursor on the pooled
  connection (`raw`): SQLAlchemy's execution layers (greenlet hand-off, compiled-cache lookup,
  result wrapping) cost 100-250 us of CPU per statement in a micro-benchmark on this box
  against 15-30 us for the driver itself, and enrichment has two statements. The SQL is the
  one SQLAlchemy renders for the Core statements below (values bound the same way: JSON by
  `json.dumps`, the driver escaping the rest; `updated_at` set as the model's `onupdate`
  does); a driver error invalidates the connection as SQLAlchemy would. With tracing on,
  the Core path runs so that each statement keeps its span.
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
import inspect
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool

from services._legacy_json import loads
from services.models import Artist, utcnow
from services.settings import Settings

_ARTISTS: Table = Artist.__table__  # type: ignore[assignment]  # a declarative class's Table
# What enrichment reads of an artist, as one Core statement built once.
ARTIST_STATE = select(
    _ARTISTS.c.id,
    _ARTISTS.c.name,
    _ARTISTS.c.spotify_id,
    _ARTISTS.c.lastfm_name,
    _ARTISTS.c.imvdb_id,
    _ARTISTS.c.imvdb_metadata,
    _ARTISTS.c.genres,
).where(_ARTISTS.c.id == bindparam("artist_id"))
# The same statements as the driver receives them from SQLAlchemy on MariaDB.
RAW_ARTIST_STATE = (
    "SELECT artists.id, artists.name, artists.spotify_id, artists.lastfm_name, artists.imvdb_id, "
    "artists.imvdb_metadata, artists.genres \nFROM artists \nWHERE artists.id = %s"
)
RAW_HOLDER = "SELECT artists.id \nFROM artists \nWHERE artists.imvdb_id = %s AND artists.id != %s \n LIMIT %s"
# The columns enrichment may write (UPDATE statements are built from these names only).
WRITABLE = ("imvdb_id", "spotify_id", "lastfm_name", "imvdb_metadata", "genres")  # table order
JSON_COLUMNS = frozenset({"genres", "imvdb_metadata"})


class ArtistState(NamedTuple):
    id: int
    name: str
    spotify_id: str | None
    lastfm_name: str | None
    imvdb_id: str | None
    imvdb_metadata: Any
    genres: Any


async def _settled(value: Any) -> Any:
    # aiomysql's buffered fetchone() is plain, asyncmy's is a coroutine.
    return await value if inspect.isawaitable(value) else value


@dataclass
class EnrichmentStore:
    engine: AsyncEngine
    gate: asyncio.Semaphore
    write_lock: asyncio.Lock | None = None
    raw: bool = False  # statements straight on the driver's cursor (MariaDB, no tracing)

    async def artist(self, conn: AsyncConnection, artist_id: int) -> ArtistState | None:
        if not self.raw:
            row = (await conn.execute(ARTIST_STATE, {"artist_id": artist_id})).first()
            return None if row is None else ArtistState._make(row)
        row = await self._fetch_one(conn, RAW_ARTIST_STATE, (artist_id,))
        if row is None:
            return None
        *plain, metadata, genres = row
        return ArtistState._make((*plain, _decoded(metadata), _decoded(genres)))

    async def imvdb_holder(self, conn: AsyncConnection, imvdb_id: str, artist_id: int) -> int | None:
        """Another artist holding `imvdb_id` (the column is unique), or None."""
        if not self.raw:
            others = (_ARTISTS.c.imvdb_id == imvdb_id, _ARTISTS.c.id != artist_id)
            holder: int | None = await conn.scalar(select(_ARTISTS.c.id).where(*others).limit(1))
            return holder
        row = await self._fetch_one(conn, RAW_HOLDER, (imvdb_id, artist_id, 1))
        return None if row is None else int(row[0])

    async def update_artist(self, conn: AsyncConnection, artist_id: int, values: dict[str, Any]) -> int:
        """UPDATE the artist's `values` (and `updated_at`, the model's onupdate); rows matched."""
        if not self.raw:
            stmt = update(_ARTISTS).where(_ARTISTS.c.id == artist_id).values(**values)
            written = await conn.execute(stmt)
            return int(getattr(written, "rowcount", 1))
        names = [name for name in WRITABLE if name in values]
        if len(names) != len(values):
            raise ValueError(f"not an enrichment column: {sorted(set(values) - set(WRITABLE))}")
        params: list[Any] = [json.dumps(values[n]) if n in JSON_COLUMNS else values[n] for n in names]
        assignments = ", ".join(f"{name}=%s" for name in [*names, "updated_at"])
        sql = f"UPDATE artists SET {assignments} WHERE artists.id = %s"  # noqa: S608 - names from WRITABLE
        return await self._execute(conn, sql, (*params, utcnow(), artist_id))

    async def _fetch_one(self, conn: AsyncConnection, sql: str, args: tuple[Any, ...]) -> Any:
        cursor = await self._cursor(conn)
        try:
            await cursor.execute(sql, args)
            return await _settled(cursor.fetchone())
        except BaseException:
            await conn.invalidate()  # the driver's state is unknown: never pooled again
            raise
        finally:
            await cursor.close()

    async def _execute(self, conn: AsyncConnection, sql: str, args: tuple[Any, ...]) -> int:
        cursor = await self._cursor(conn)
        try:
            await cursor.execute(sql, args)
            return int(cursor.rowcount)
        except BaseException:
            await conn.invalidate()
            raise
        finally:
            await cursor.close()

    @staticmethod
    async def _cursor(conn: AsyncConnection) -> Any:
        return (await conn.get_raw_connection()).driver_connection.cursor()  # type: ignore[union-attr]

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


def _decoded(value: Any) -> Any:
    return None if value is None else loads(value)  # the engines' json_deserializer


def create_store(
    settings: Settings, engine: AsyncEngine, read_engine: AsyncEngine, *, traced: bool = False
) -> EnrichmentStore:
    """`read_engine` is the autocommit engine on MariaDB and `engine` itself on SQLite;
    `traced`: statement spans wanted (SQLAlchemy's instrumentation), so no raw statements."""
    pool = read_engine.pool
    size = pool.size() if isinstance(pool, QueuePool) else 1
    if settings.is_sqlite:
        return EnrichmentStore(engine, asyncio.Semaphore(max(1, size - 1)), asyncio.Lock())
    return EnrichmentStore(read_engine, asyncio.Semaphore(size), raw=not traced)
