"""Enrichment's database access: one short read before the providers are asked, one short
write after they answered, each on a pooled connection held only for its statements.

- Core statements on a plain `AsyncConnection`: no ORM session, identity map or flush on the
  hot path (the session's machinery was most of SQLAlchemy's share of the enrichment profile).
- On MariaDB both run on the autocommit engine (`services.db`): the read is one round trip,
  and the write is its UPDATE alone, committed by the server as it runs (no COMMIT to send).
  A conflicting IMVDb id is looked up first, as before; that read never held a lock either.
- Without tracing, the statements go straight to the driver on the pooled connection
  (`raw`): SQLAlchemy's execution layers (greenlet hand-off, compiled-cache lookup, result
  wrapping) cost 100-250 us of CPU per statement in a micro-benchmark on this box against
  15-30 us for asyncmy itself, and enrichment has two statements. On SQLite the UPDATE and
  its COMMIT are one trip to the connection's worker thread instead of two. The SQL is the
  text SQLAlchemy renders for the Core statements (values bound the same way: JSON by
  `json.dumps`, `updated_at` set as the model's `onupdate` does, in SQLAlchemy's SQLite
  storage format there); a driver error invalidates the connection. With tracing on, the
  Core path runs so that each statement keeps its span.
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
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import mysql, sqlite
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
# The columns enrichment may write (UPDATE statements are built from these names only).
WRITABLE = ("imvdb_id", "spotify_id", "lastfm_name", "imvdb_metadata", "genres")  # table order
JSON_COLUMNS = frozenset({"genres", "imvdb_metadata"})


def _holder_query() -> Any:
    return select(_ARTISTS.c.id).where(_ARTISTS.c.imvdb_id == "", _ARTISTS.c.id != 0).limit(1)


@dataclass(frozen=True)
class RawSQL:
    """One dialect's text of the statements, rendered by SQLAlchemy itself (so the driver
    receives exactly what the Core statements send), and how it binds `updated_at`."""

    artist: str
    holder: str
    holder_tail: tuple[int, ...]  # LIMIT (and SQLite's OFFSET) parameters
    mark: str
    timestamp: Callable[[datetime], Any]

    @classmethod
    def of(cls, dialect: Any, mark: str, timestamp: Callable[[datetime], Any]) -> RawSQL:
        holder = _holder_query().compile(dialect=dialect)
        tail = tuple(v for k, v in holder.params.items() if k.startswith("param_"))
        return cls(str(ARTIST_STATE.compile(dialect=dialect)), str(holder), tail, mark, timestamp)


# MariaDB: the driver binds datetimes; SQLite: SQLAlchemy's DateTime storage format.
MARIADB_SQL = RawSQL.of(mysql.dialect(paramstyle="format"), "%s", lambda when: when)
SQLITE_SQL = RawSQL.of(sqlite.dialect(), "?", lambda when: when.strftime("%Y-%m-%d %H:%M:%S.%f"))


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
    raw: RawSQL | None = None  # statements straight on the driver (no tracing)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.gate, self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one write; the caller commits (nothing is left to commit after
        a raw write, which commits itself). Leaving without a commit rolls back."""
        if self.write_lock is not None:
            async with self.write_lock, self.engine.connect() as conn:
                yield conn
        else:
            async with self.gate, self.engine.connect() as conn:
                yield conn

    async def artist(self, conn: AsyncConnection, artist_id: int) -> ArtistState | None:
        if self.raw is None:
            row = (await conn.execute(ARTIST_STATE, {"artist_id": artist_id})).first()
            return None if row is None else ArtistState._make(row)
        row = await self._fetch_one(conn, self.raw.artist, (artist_id,))
        if row is None:
            return None
        *plain, metadata, genres = row
        return ArtistState._make((*plain, _decoded(metadata), _decoded(genres)))

    async def imvdb_holder(self, conn: AsyncConnection, imvdb_id: str, artist_id: int) -> int | None:
        """Another artist holding `imvdb_id` (the column is unique), or None."""
        if self.raw is None:
            others = (_ARTISTS.c.imvdb_id == imvdb_id, _ARTISTS.c.id != artist_id)
            holder: int | None = await conn.scalar(select(_ARTISTS.c.id).where(*others).limit(1))
            return holder
        row = await self._fetch_one(conn, self.raw.holder, (imvdb_id, artist_id, *self.raw.holder_tail))
        return None if row is None else int(row[0])

    async def update_artist(self, conn: AsyncConnection, artist_id: int, values: dict[str, Any]) -> int:
        """UPDATE the artist's `values` (and `updated_at`, the model's onupdate); rows matched."""
        if self.raw is None:
            stmt = update(_ARTISTS).where(_ARTISTS.c.id == artist_id).values(**values)
            written = await conn.execute(stmt)
            return int(getattr(written, "rowcount", 1))
        names = [name for name in WRITABLE if name in values]
        if len(names) != len(values):
            raise ValueError(f"not an enrichment column: {sorted(set(values) - set(WRITABLE))}")
        params: list[Any] = [json.dumps(values[n]) if n in JSON_COLUMNS else values[n] for n in names]
        mark = self.raw.mark
        assignments = ", ".join(f"{name}={mark}" for name in [*names, "updated_at"])
        sql = f"UPDATE artists SET {assignments} WHERE artists.id = {mark}"  # noqa: S608 - names from WRITABLE
        return await self._write(conn, sql, (*params, self.raw.timestamp(utcnow()), artist_id))

    async def _fetch_one(self, conn: AsyncConnection, sql: str, args: tuple[Any, ...]) -> Any:
        driver = await _driver(conn)
        try:
            if self.raw is SQLITE_SQL:  # one trip to the connection's worker thread
                return await driver._execute(_sqlite_fetch_one, driver._conn, sql, args)
            cursor = await _settled(driver.cursor())  # aiomysql hands it out as an awaitable
            try:
                await cursor.execute(sql, args)
                return await _settled(cursor.fetchone())
            finally:
                await cursor.close()
        except BaseException:
            await conn.invalidate()  # the driver's state is unknown: never pooled again
            raise

    async def _write(self, conn: AsyncConnection, sql: str, args: tuple[Any, ...]) -> int:
        """Run and commit one statement; the rows it matched. (MariaDB: an autocommit
        connection; SQLite: statement and COMMIT in one trip to the worker thread.)"""
        driver = await _driver(conn)
        try:
            if self.raw is SQLITE_SQL:
                return int(await driver._execute(_sqlite_write, driver._conn, sql, args))
            cursor = await _settled(driver.cursor())  # aiomysql hands it out as an awaitable
            try:
                await cursor.execute(sql, args)
                return int(cursor.rowcount)
            finally:
                await cursor.close()
        except BaseException:
            await conn.invalidate()
            raise


async def _driver(conn: AsyncConnection) -> Any:
    return (await conn.get_raw_connection()).driver_connection


def _sqlite_fetch_one(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> Any:
    cursor = conn.execute(sql, args)
    try:
        return cursor.fetchone()
    finally:
        cursor.close()


def _sqlite_write(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> int:
    cursor = conn.execute(sql, args)
    try:
        matched = cursor.rowcount
    finally:
        cursor.close()
    conn.commit()
    return matched


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
        raw = None if traced else SQLITE_SQL
        return EnrichmentStore(engine, asyncio.Semaphore(max(1, size - 1)), asyncio.Lock(), raw)
    return EnrichmentStore(read_engine, asyncio.Semaphore(size), raw=None if traced else MARIADB_SQL)
