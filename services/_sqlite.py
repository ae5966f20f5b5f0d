"""SQLite through aiosqlite with one worker-thread round trip per statement.

aiosqlite runs each sqlite3 call on the connection's own thread; SQLAlchemy's adapter makes
four such calls per statement (open a cursor, execute, fetch all, close) and one more for
each COMMIT and for the ROLLBACK that resets a connection returned to the pool. Every call
is a thread hand-off plus an event-loop wake-up, and under load the GIL hand-back from the
worker thread dominated the services' CPU profile (about 30% of the event loop's time on
`GET /api/videos/`). Here a statement is one call: the worker opens the cursor, executes,
buffers the rows and closes it, exactly what the stock adapter does in four trips. COMMIT
and ROLLBACK are skipped when the connection has no open transaction: sqlite3 itself does
nothing then (it only sends them when `in_transaction`), so only the hand-off is saved.

The engine uses it through `create_async_engine(..., module=dbapi())`, SQLAlchemy's hook for
an alternative DBAPI module; server-side (streaming) cursors keep the stock class.

`PlainLikeCompiler` renders `ILIKE` as SQLite's own `LIKE` instead of `lower(x) LIKE lower(y)`:
SQLite's LIKE already ignores case for ASCII letters only, and its built-in lower() folds
ASCII letters only, so both match exactly the same rows; without the two lower() calls per
row a searched scan of the videos costs about a third less.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import EMPTY_DICT

_Outcome = tuple[Any, int, int | None, list[Any] | None]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the worker thread: the whole life of one cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: Any) -> None:  # no trip: the cursor lives on the worker
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1  # sqlite3's default

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None  # nothing is open: the rows are already buffered

    def close(self) -> None:
        self._rows.clear()

    async def _trip(self, operation: str, parameters: Any, *, many: bool) -> OneTripCursor:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        submit = cast(Callable[..., Awaitable[_Outcome]], connection._execute)  # untyped in aiosqlite
        async with self._adapt_connection._execute_mutex:
            outcome = await submit(_run, connection._conn, operation, parameters, many)
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows) if rows is not None else collections.deque()
        return self

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        return await self._trip(operation, seq_of_parameters, many=True)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor

    def _in_transaction(self) -> bool:
        # sqlite3_get_autocommit() reads a flag; sqlite3 allows it from any thread.
        raw: sqlite3.Connection | None = self._connection._connection
        return raw is not None and raw.in_transaction

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)


class PlainLikeCompiler(SQLiteCompiler):
    def visit_ilike_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        return self.visit_like_op_binary(binary, operator, **kw)  # type: ignore[no-untyped-call,no-any-return]

    def visit_not_ilike_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        return self.visit_not_like_op_binary(binary, operator, **kw)  # type: ignore[no-untyped-call,no-any-return]


def use_plain_like(engine: AsyncEngine) -> None:
    """This engine's dialect compiles ILIKE as LIKE (see the module docstring)."""
    engine.dialect.statement_compiler = PlainLikeCompiler
