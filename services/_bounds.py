"""Values a database can hold, checked where request values meet SQL.

A client can send any integer (JSON and query strings have no size limit) and any string a
JSON escape can spell, lone surrogates (`"\\udc80"`) included. The drivers cannot bind all of
them: sqlite3 raises OverflowError past signed 64 bits, MariaDB refuses a LIMIT past unsigned
64 bits, and both raise UnicodeEncodeError on a surrogate. Legacy lets these reach the driver
and answers 500; services answer as legacy does on MariaDB where that answer is not an error,
and refuse the value with a 400 where it is (see the error-hygiene entries in differences.yaml):

    row_id(value)               a path or body id no row can have  -> None (the caller's 404)
    compare(column, op, value)  a filter past 64 bits               -> the constant MariaDB gives
    window(limit, offset)       LIMIT/OFFSET past unsigned 64 bits  -> Unstorable (400);
                                between signed and unsigned 64 bits -> clamped (the same rows)
    guard_statements(engine)    the net: any other such parameter   -> Unstorable (400);
                                a one-element list (MariaDB only)   -> its element, as PyMySQL

`Unstorable` is rendered by `services.errors` in the shape of the route family.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from fastapi import Path
from pydantic import Field
from sqlalchemy import ColumnElement, event, false
from sqlalchemy.ext.asyncio import AsyncEngine

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1  # MariaDB's largest LIMIT / OFFSET

Comparison = Callable[[Any, Any], Any]

# New endpoints declare their range instead (documented in the OpenAPI, refused with a 422):
# the integers every JSON implementation reads exactly (RFC 7493, I-JSON, 2.2). A wider bound
# could not be documented truthfully: a validator working in doubles rounds 2**63 + 100 down
# to 2**63 and would call it valid.
JSON_SAFE_MAX = 2**53 - 1
StorableInt = Annotated[int, Field(ge=-JSON_SAFE_MAX, le=JSON_SAFE_MAX)]
StorableIntPath = Annotated[int, Path(ge=-JSON_SAFE_MAX, le=JSON_SAFE_MAX)]


class Unstorable(ValueError):
    """A request value no database column or clause can take: the client's 400, never a 500."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def fits_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


def row_id(value: int) -> int | None:
    """`value` when a row could have it as its key; None when no row can (answer not found)."""
    return value if fits_int64(value) else None


def compare(column: Any, op: Comparison, value: int) -> ColumnElement[bool]:
    """`op(column, value)` for any Python int, as MariaDB evaluates it (numerically).

    Past 64 bits the answer no longer depends on the row's value, only on whether it has one
    (NULL compares to nothing): `year = 2**70` and `year >= 2**70` match no row, `year <= 2**70`
    every row with a year.
    """
    if fits_int64(value):
        return op(column, value)  # type: ignore[no-any-return]
    above = value > INT64_MAX
    if op is operator.eq:
        return false()
    if (op in (operator.le, operator.lt)) == above:
        return column.isnot(None)  # type: ignore[no-any-return]
    return false()


def window(
    *, limit: int | None, offset: int, names: tuple[str, str] = ("limit", "offset")
) -> tuple[int | None, int]:
    """LIMIT and OFFSET both backends accept, selecting the rows MariaDB would select.

    MariaDB takes either up to 2**64-1 (SQLite only up to 2**63-1, where no table reaches
    anyway, so clamping there keeps the same rows); past that legacy answers 500 on both.
    """
    for name, value in zip(names, (limit, offset), strict=True):
        if value is not None and value > UINT64_MAX:
            raise Unstorable(f"Invalid value for {name}")
    return (None if limit is None else min(limit, INT64_MAX)), min(offset, INT64_MAX)


def check_value(value: Any) -> None:
    """Raise Unstorable for an int past signed 64 bits or a str that is not valid Unicode."""
    kind = type(value)
    if kind is int:
        if not fits_int64(value):
            raise Unstorable("Invalid value: integer out of range")
    elif kind is str and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Unstorable("Invalid value: text is not valid Unicode") from None


def check_parameters(parameters: Any) -> None:
    if isinstance(parameters, Mapping):
        parameters = parameters.values()
    elif not isinstance(parameters, Iterable) or isinstance(parameters, str | bytes):
        return
    for value in parameters:
        if isinstance(value, list | tuple | Mapping):  # executemany: one set per row
            check_parameters(value)
        else:
            check_value(value)


def _single(value: Any) -> Any:
    while value.__class__ is list and len(value) == 1:
        value = value[0]
    return value


def _rebound(value: Any) -> bool:
    return value.__class__ is list or (value.__class__ is int and not INT64_MIN <= value <= INT64_MAX)


def _as_mariadb_literal(value: Any) -> Any:
    value = _single(value)
    if value.__class__ is int and not INT64_MIN <= value <= INT64_MAX:
        return str(value)  # MariaDB stores the digits of the literal PyMySQL writes: the same text
    return value


def bind_singles(parameters: Any, *, mariadb: bool = True) -> Any:
    """One statement's parameters as legacy's PyMySQL has MariaDB read them.

    PyMySQL renders a list as a parenthesised tuple: a one-element list `[x]` (or `[[x]]`) is
    the SQL `(x)`, which is `x`. It writes an integer past 64 bits as its literal, which a text
    column keeps as those digits (and an INTEGER column refuses, as the quoted digits are).
    asyncmy refuses both, so on MariaDB services bind the element, and the digits as text.
    Only a column value a client sent is a list or such an integer here (IN lists are
    expanded, JSON columns serialised, filters and windows bounded before this point); on
    SQLite, whose driver binds neither (legacy: 500), they are left for `check_parameters`.
    """
    if not mariadb:
        return parameters
    if isinstance(parameters, Mapping):
        if any(_rebound(v) for v in parameters.values()):
            return {k: _as_mariadb_literal(v) for k, v in parameters.items()}
    elif isinstance(parameters, list | tuple) and any(_rebound(v) for v in parameters):
        return type(parameters)(_as_mariadb_literal(v) for v in parameters)
    return parameters


def guarded(parameters: Any, *, mariadb: bool, executemany: bool = False) -> Any:
    """One statement's parameters as they may be sent: legacy's bindings (`bind_singles`),
    then refused with the client's 400 if no driver can bind one. Every statement passes here:
    SQLAlchemy's through `guard_statements`, the prepared ones of `services._driver` directly."""
    if not executemany and parameters:
        parameters = bind_singles(parameters, mariadb=mariadb)
    check_parameters(parameters)
    return parameters


def _before_execute(
    conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
) -> tuple[str, Any]:
    return statement, guarded(parameters, mariadb=conn.dialect.name == "mysql", executemany=executemany)


def guard_statements(engine: AsyncEngine) -> None:
    """Refuse unbindable parameters before the driver sees them (the transaction rolls back)."""
    event.listen(engine.sync_engine, "before_cursor_execute", _before_execute, retval=True)
