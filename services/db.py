"""The async database layer: one engine and one session factory per process (on MariaDB a
second, autocommit engine for read-only requests).

`SessionDep` gives each request one `AsyncSession` inside one transaction
(`session.begin()`): committed when the handler returns, rolled back when it raises, and
finished *before* the response is sent, so a client that reads back through the legacy app
sees its write.

Read-only requests (GET, HEAD, OPTIONS) on MariaDB take their session from the read engine,
whose connections run in autocommit mode: each SELECT is its own transaction, so there is no
COMMIT to send at the end, no ROLLBACK when the connection returns to the pool, and no
snapshot held open between requests. With the idle-only ping of `services/_mysql.py`, a read
is one round trip instead of four. A GET that does write (an API key's last use) has each
statement committed as it runs.

A write request whose only write is one statement (the status and setting PUTs: one UPDATE,
or an UPDATE matching nothing and then one INSERT) runs on the autocommit engine as well. The
statement is its own transaction: nothing before it wrote, nothing after it can fail in a way
that would have rolled it back, so the rows left are the same, without the COMMIT round trip;
and the row lock lasts as long as the statement instead of until the COMMIT, which waited
behind every other request ready on the event loop (a hot row, like the one setting every
PUT of the write mix rewrites, queued its writers for that long). An API key's last use,
written while the caller is resolved, is committed as it runs, as on a GET.

On MariaDB, the sessions of a process without statement echo or tracing are marked for
`services._driver`: the hot routes' prepared statements (the videos and artists lists, one
video, the status and setting PUTs, the session cookie's caller) are sent on the session's own
connection straight through the driver, in the same transaction, without SQLAlchemy's
per-statement execution layers.

On SQLite, the write requests of the short resource routes also take the process's
`SqliteWriters` lock for their transaction. SQLite has one writer at a time; without the
lock, a dozen pooled connections each hold a transaction open across several event-loop
turns and the others spin in SQLite's busy handler, which sleeps 1, 2, 5 ... 100 ms between
retries: throughput fell to a third of legacy's and the p99 went past a second. Queued on
an asyncio lock instead, each writer starts the moment the previous one commits. Legacy
(another process) still meets the services through the busy timeout, as before. Every write
request queues here, the single-statement PUTs too: their autocommit shortcut exists only
beside MariaDB's autocommit twin engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services import _mysql, _sqlite
from services._bounds import guard_statements
from services._driver import DRIVER_KEY
from services._legacy_json import loads
from services.settings import Settings


def create_engine(settings: Settings, *, autocommit: bool = False) -> AsyncEngine:
    """The process's engine: SQLite with WAL + busy timeout, MariaDB with an explicit pool
    (`autocommit`: the read engine's connections, see the module docstring).

    Both refuse a parameter no driver can bind (services/_bounds.py) with the client's 400.
    """
    engine = _create_engine(settings, autocommit=autocommit)
    guard_statements(engine)
    return engine


def _create_engine(settings: Settings, *, autocommit: bool) -> AsyncEngine:
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            echo=settings.db_echo,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
            json_deserializer=loads,
            module=_sqlite.dbapi(),  # one worker-thread trip per statement (services/_sqlite.py)
            # Every admitted request may hold a connection; each one beyond the pool is a new
            # sqlite3 connection, worker thread and PRAGMA round, closed again on return.
            pool_size=max(settings.db_pool_size, settings.max_in_flight),
            max_overflow=settings.db_max_overflow,
        )
        busy_ms = settings.sqlite_busy_timeout_ms

        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL and a busy timeout let legacy and services write the same file (as legacy does).
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        event.listen(engine.sync_engine, "connect", _pragmas)
        _sqlite.use_plain_like(engine)
        return engine
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    engine = create_async_engine(
        settings.database_url,
        echo=settings.db_echo,
        module=_mysql.dbapi(settings.mysql_driver),
        json_deserializer=loads,
        # Every admitted request may hold a connection: an overflow connection is closed again
        # as it returns, so a pool smaller than the admission limit reconnects under load.
        pool_size=max(settings.db_pool_size, settings.max_in_flight),
        max_overflow=settings.db_max_overflow,
        pool_recycle=settings.db_pool_recycle,
        pool_timeout=settings.db_pool_timeout,
        # Last in, first out: under light load one connection stays hot and the others idle
        # (and are pinged when they are needed again) instead of every one going stale in turn.
        pool_use_lifo=True,
        **options,
    )
    _mysql.ping_when_idle(engine, settings.db_ping_after_idle)
    return engine


def create_read_engine(settings: Settings, engine: AsyncEngine) -> AsyncEngine:
    """The engine of read-only requests: `engine` itself on SQLite (sqlite3 opens no
    transaction for a SELECT), an autocommit twin on MariaDB."""
    return engine if settings.is_sqlite else create_engine(settings, autocommit=True)


def create_sessionmaker(engine: AsyncEngine, *, driver: bool = False) -> async_sessionmaker[AsyncSession]:
    """`driver`: the hot routes' prepared statements go straight to the driver
    (`services._driver`; MariaDB, without statement echo or tracing)."""
    info = {DRIVER_KEY: True} if driver else None
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info)


def driver_statements(settings: Settings, *, traced: bool) -> bool:
    """Whether prepared statements may skip SQLAlchemy's execution layers (`services._driver`):
    on MariaDB, unless statements are echoed or traced (both hook those layers)."""
    return not settings.is_sqlite and not settings.db_echo and not traced


# Routes whose writes are short, database-only transactions (the admission-limited ones);
# enrichment and auth manage or hold their sessions differently and are not serialised here.
SERIALISED_WRITE_PREFIXES = ("/api/videos", "/api/artists", "/api/playlists", "/api/settings")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SqliteWriters:
    """One in-process writer at a time on SQLite (see the module docstring)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()

    @staticmethod
    def applies(request: Request) -> bool:
        return request.method not in READ_METHODS and request.url.path.startswith(SERIALISED_WRITE_PREFIXES)


def create_sqlite_writers(settings: Settings) -> SqliteWriters | None:
    return SqliteWriters() if settings.is_sqlite else None


# Set in the scope by a route whose request writes with one statement (services._direct_route).
SINGLE_WRITE_KEY = "figway.single_statement_write"


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request."""
    state = request.app.state
    reads: async_sessionmaker[AsyncSession] = getattr(state, "read_sessionmaker", state.sessionmaker)
    # Only an autocommit twin (MariaDB) commits a single-statement write by itself; on SQLite
    # the read sessions share the writers' engine, and a write there must queue as one.
    autocommit_twin = getattr(state, "read_engine", None) is not getattr(state, "engine", None)
    single_write = autocommit_twin and SINGLE_WRITE_KEY in request.scope
    if request.method in READ_METHODS or single_write:
        async with reads() as session, session.begin():
            yield session
        return
    factory: async_sessionmaker[AsyncSession] = state.sessionmaker
    writers: SqliteWriters | None = getattr(state, "sqlite_writers", None)
    if writers is not None and writers.applies(request):
        async with writers.lock, factory() as session, session.begin():
            yield session
        return
    async with factory() as session, session.begin():
        yield session


# scope="function": commit (or roll back) before the response leaves, never after.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
