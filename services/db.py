"""The async database layer: one engine and one session factory per process.

`SessionDep` gives each request one `AsyncSession` inside one transaction
(`session.begin()`): committed when the handler returns, rolled back when it raises, and
finished *before* the response is sent, so a client that reads back through the legacy app
sees its write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    """The process's engine: SQLite with WAL + busy timeout, MariaDB with an explicit pool."""
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            echo=settings.db_echo,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
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


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with factory() as session, session.begin():
        yield session


# scope="function": commit (or roll back) before the response leaves, never after.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
