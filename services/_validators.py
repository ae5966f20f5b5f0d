"""Pydantic types for legacy request bodies: accept what legacy accepts, refuse only what crashes it.

Legacy copies JSON values straight onto its models and echoes them back; the database then
does what it does with them: SQLite keeps `1.5` or `"3:45"` in an INTEGER column as given,
MariaDB rounds `1.5` and refuses `"3:45"` (legacy: a 500 with the driver's text). Services hand
the same value to the same database, so both sides store (or refuse) alike, and echo the raw
value as legacy does. Only values no database driver can bind are refused up front, with a 400
where legacy answers 500 (differences.yaml `no-exception-text-in-500`): objects and lists for a
scalar column, integers past 64 bits.

`validate_body(model, data, read=...)` checks only the fields the handler reads: legacy
ignores every other field whatever its type.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ValidationError, WithJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import LegacyError

INT64 = 2**63


def _scalar(value: Any) -> Any:
    """A value every driver binds: None, bool, str, a finite float, a 64-bit integer."""
    if isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
        # sqlite3 cannot bind it; PyMySQL writes the literal, which no INTEGER column holds
        raise ValueError("integer out of range")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("must be a scalar")


def _text(value: Any) -> Any:
    """A scalar for a text column. An integer of any size passes: MariaDB stores its digits (as
    legacy's PyMySQL writes them); on SQLite the statement guard refuses one past 64 bits
    (services/_bounds.py), where sqlite3 fails legacy."""
    if value.__class__ is int:
        return value
    return _scalar(value)


_int_like = _scalar  # the database, not services, decides what an INTEGER column keeps


_SCALAR_SCHEMA = [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]
IntLike = Annotated[
    Any, AfterValidator(_int_like), WithJsonSchema({"anyOf": [{"type": "integer"}, *_SCALAR_SCHEMA]})
]
TextLike = Annotated[Any, AfterValidator(_text), WithJsonSchema({"anyOf": _SCALAR_SCHEMA})]
# In an answer: a column legacy fills with whatever scalar the client sent (echoed as sent, read
# back as the database kept it: SQLite keeps 1.5 in an INTEGER column, 7 in a TEXT one as "7").
Echoed = Annotated[Any, WithJsonSchema({"anyOf": _SCALAR_SCHEMA})]


def single(value: Any) -> Any:
    """What MariaDB stores for `value`: legacy's driver (PyMySQL, like asyncmy) renders a list as
    a parenthesised tuple, so `[x]` (or `[[x]]`) is the SQL `(x)`, which is `x` itself; any other
    list or object still fails there (a row constructor, `()`, a dict)."""
    while value.__class__ is list and len(value) == 1:
        value = value[0]
    return value


def validate_body(
    model: type[BaseModel],
    data: dict[str, Any],
    *,
    read: Collection[str] | None = None,
    session: AsyncSession | None = None,
) -> None:
    """Check the fields of `data` the handler reads (`read`, default: all) against `model`.

    A refused value becomes legacy's 400 `{"error": "Invalid value for <field>"}`. With the
    request's `session` on MariaDB, a one-element list is checked as its element: legacy stores
    that element there (see `single`; services/_bounds.py binds it so), while SQLite's driver
    refuses every list (legacy 500, services 400).
    """
    if read is not None:
        data = {key: value for key, value in data.items() if key in read}
    if session is not None and session.get_bind().dialect.name == "mysql":
        data = {key: single(value) for key, value in data.items()}
    try:
        model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise LegacyError(400, {"error": f"Invalid value for {field}"}) from exc
