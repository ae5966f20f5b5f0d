"""`Prepared`: a hot route's Core statement, run straight on the driver of the request's connection.

On MariaDB, running a one-row statement through `AsyncSession.execute` cost 170 us of CPU on
this box against 57 us for the same SQL sent on the driver's cursor (in-process, asyncmy,
3,000 runs): the greenlet hand-off, the compiled-cache lookup, the execution context, event
dispatch and result wrapping are paid on every statement, and a status PUT sends three. A
`Prepared` statement is rendered once per dialect by SQLAlchemy itself (same SQL text, same
parameter order, the column types' own bind and result processors, so an Enum goes out as its
name and comes back as the enum, JSON is decoded by the engine's deserializer), then sent on
the DBAPI connection the session already holds:

- it joins the session's transaction (the same connection), so a request may mix `Prepared`
  statements with ordinary session work and still commits or rolls back as one;
- its parameters pass the same guard as every statement's (`services/_bounds.py`: legacy's
  bindings of odd values, and the client's 400 for a value no driver can bind);
- a driver error is raised as SQLAlchemy raises it (`DBAPIError.instance`: the same
  `OperationalError`/`IntegrityError` the error handlers translate), and an error that lost
  the connection, or anything else interrupting a statement (a cancelled request), invalidates
  it, so it is never pooled again in an unknown state;
- rows are named tuples: read by position or by column name, like SQLAlchemy's `Row`.

Only sessions made with `driver=True` (`services.db.create_sessionmaker`: MariaDB, statement
echo off, no tracing, because SQLAlchemy's instrumentation makes a span per statement) take
this path; on any other session the statement runs through `session.execute`, so SQLite and
traced processes behave as before. Statements whose values come from column defaults (a
Python `default`/`onupdate` SQLAlchemy would compute per execution) or expanding `IN`
parameters are refused when rendered: a prepared statement binds every value it writes.
"""

from __future__ import annotations

import inspect
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.expression import Executable

from services._bounds import guarded

# `session.info` keys: the sessionmaker's switch, and the driver connection of the session's
# current transaction (reused by the request's later statements).
DRIVER_KEY = "figway.driver"
_HELD_KEY = "figway.driver.held"

Processor = Callable[[Any], Any]


class _Rendered:
    """One statement as one dialect sends it."""

    __slots__ = ("sql", "binds", "names", "processors", "row")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled: Any = statement.compile(dialect=dialect)  # type: ignore[attr-defined]  # every DML/select is a ClauseElement
        if compiled.insert_prefetch or compiled.update_prefetch or getattr(compiled, "postfetch", None):
            raise TypeError(f"a prepared statement binds every value it writes: {compiled.string!r}")
        if any(getattr(b, "expanding", False) for b in compiled.binds.values()):
            raise TypeError(f"a prepared statement has no expanding IN parameter: {compiled.string!r}")
        self.sql: str = compiled.string
        defaults = compiled.params  # literal values SQLAlchemy bound itself (a LIMIT 1)
        bind_processors = compiled._bind_processors
        self.binds: tuple[tuple[str, Any, Processor | None], ...] = tuple(
            (name, defaults.get(name), bind_processors.get(name)) for name in compiled.positiontup or ()
        )
        self.names = frozenset(compiled.binds)
        columns = compiled._result_columns
        # (position, processor) of the columns whose type converts what the driver returns
        processors = ((i, c.type._cached_result_processor(dialect, None)) for i, c in enumerate(columns))
        self.processors = tuple((i, p) for i, p in processors if p is not None)
        self.row: Any = namedtuple("Row", [c.keyname for c in columns], rename=True) if columns else None  # noqa: PYI024

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        values = []
        for name, default, process in self.binds:
            value = params.get(name, default)
            values.append(value if process is None else process(value))  # None too, as SQLAlchemy does
        return tuple(values)

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        make, processors = self.row._make, self.processors
        if not processors:
            return [make(r) for r in raw]
        rows = []
        for values in raw:
            row = list(values)
            for index, process in processors:
                row[index] = process(row[index])
            rows.append(make(row))
        return rows


class Prepared:
    """A Core statement for the hot path (see the module docstring). Build it once, at import."""

    __slots__ = ("statement", "_rendered")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._rendered: dict[int, tuple[Dialect, _Rendered]] = {}

    def render(self, dialect: Dialect) -> _Rendered:
        held = self._rendered.get(id(dialect))
        if held is None or held[0] is not dialect:
            held = (dialect, _Rendered(self.statement, dialect))
            self._rendered[id(dialect)] = held
        return held[1]

    async def all(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> list[Any]:
        if not session.info.get(DRIVER_KEY):
            return list((await self._execute(session, params)).all())
        rendered, rows, _ = await self._run(session, params or {}, fetch=True)
        return rendered.rows(rows)

    async def first(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> Any:
        if not session.info.get(DRIVER_KEY):
            return (await self._execute(session, params)).first()
        rendered, rows, _ = await self._run(session, params or {}, fetch=True)
        return rendered.rows(rows[:1])[0] if rows else None

    async def write(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> int:
        """Run an INSERT/UPDATE/DELETE; the rows it matched (MySQL dialects ask for FOUND_ROWS)."""
        if not session.info.get(DRIVER_KEY):
            return int(getattr(await self._execute(session, params), "rowcount", 0) or 0)
        _, _, count = await self._run(session, params or {}, fetch=False)
        return count

    async def _execute(self, session: AsyncSession, params: Mapping[str, Any] | None) -> Any:
        """Through SQLAlchemy, with the statement's own parameters only: Core would turn any
        other key naming a column into one more SET of an UPDATE, which the driver path never does."""
        if params:
            names = self.render(session.get_bind().dialect).names
            params = {name: value for name, value in params.items() if name in names}
        return await session.execute(self.statement, params)

    async def _run(
        self, session: AsyncSession, params: Mapping[str, Any], *, fetch: bool
    ) -> tuple[_Rendered, Sequence[Any], int]:
        conn, driver = await _held(session)
        dialect = conn.dialect
        rendered = self.render(dialect)
        args = guarded(rendered.arguments(params), mariadb=dialect.name == "mysql")
        cursor = await _settled(driver.cursor())  # aiomysql hands it out as an awaitable
        try:
            await cursor.execute(rendered.sql, args)
            rows = await _settled(cursor.fetchall()) if fetch else ()
            count = int(cursor.rowcount)
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, driver, cursor)
            if lost:
                await conn.invalidate()
            raise DBAPIError.instance(
                rendered.sql, args, error, dialect.loaded_dbapi.Error,
                connection_invalidated=lost, dialect=dialect,
            ) from error  # fmt: skip
        except BaseException:
            await conn.invalidate()  # interrupted mid-statement: the protocol state is unknown
            raise
        finally:
            await _settled(cursor.close())
        return rendered, rows, count


async def _held(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The session's connection and its driver connection, for its current transaction."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_HELD_KEY)
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1], held[2]
    conn = await session.connection()
    driver = (await conn.get_raw_connection()).driver_connection
    session.info[_HELD_KEY] = (session.sync_session.get_transaction(), conn, driver)
    return conn, driver


async def _settled(value: Any) -> Any:
    # aiomysql's cursor() and fetchall() return awaitables where asyncmy's return the value.
    return await value if inspect.isawaitable(value) else value
