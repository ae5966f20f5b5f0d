"""The async database layer: one engine and one session factory per process.

`SessionDep` gives each request one `AsyncSession` inside one transaction
(`session.begin()`): committed when the handler returns, rolled back when it raises, and
finished *before* the response is sent, so a client that reads back through the legacy app
sees its write.

On SQLite, the write requests of the short resource routes also take the process's
`SqliteWriters` lock for their transaction. SQLite has one writer at a time; without the
lock, a dozen pooled connections each hold a transaction open across several event-loop
turns and the others spin in SQLite's busy handler, which sleeps 1, 2, 5 ... 100 ms between
retries: throughput fell to a third of legacy's and the p99 went past a second. Queued on
an asyncio lock instead, each writer starts the moment the previous one commits. Legacy
(another process) still meets the services through the busy timeout, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services import _sqlite
from services._bounds import guard_statements
from services.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    """The process's engine: SQLite with WAL + busy timeout, MariaDB with an explicit pool.

    Both refuse a parameter no driver can bind (services/_bounds.py) with the client's 400.
    """
    engine = _create_engine(settings)
    guard_statements(engine)
    return engine


def _create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            echo=settings.db_echo,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
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
    return create_async_engine(
        settings.database_url,
        echo=settings.db_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=settings.db_pool_recycle,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=True,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


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


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    writers: SqliteWriters | None = getattr(request.app.state, "sqlite_writers", None)
    if writers is not None and writers.applies(request):
        async with writers.lock, factory() as session, session.begin():
            yield session
        return
    async with factory() as session, session.begin():
        yield session


# scope="function": commit (or roll back) before the response leaves, never after.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
