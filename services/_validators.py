"""Pydantic types for legacy request bodies: refuse what would crash legacy, keep what it keeps.

Legacy copies JSON values straight onto its models and echoes them back; the database then
coerces them (a numeric string into an INTEGER column, a number into a VARCHAR). These types
accept exactly the values both databases store the same way, without converting them, so the
handler can still echo the raw value as legacy does. Anything else (an object for a year, a
word for a duration) is a 400 instead of legacy's database error.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ValidationError, WithJsonSchema

from services.errors import LegacyError

_INT_TEXT = re.compile(r"\s*[-+]?\d{1,18}\s*")


def _int_like(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) >= 2**31:
            raise ValueError("integer out of range")
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**31:
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value) and abs(int(value)) < 2**31:
        return value
    raise ValueError("must be an integer")


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("must be a string")


IntLike = Annotated[
    Any, AfterValidator(_int_like), WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "null"}]})
]
TextLike = Annotated[
    Any, AfterValidator(_scalar), WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "null"}]})
]


# Response fields that legacy fills with the value the client sent (the column coerces what it
# stores, the answer echoes it unchanged: `"duration": true` is answered true, read back as 1).
# Services keep that answer (issue 20: indistinguishable), and the document says so.
EchoedText = Annotated[
    Any,
    WithJsonSchema(
        {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]}
    ),
]
EchoedInt = EchoedText


def validate_body(model: type[BaseModel], data: dict[str, Any]) -> None:
    """Check `data` against `model`; a refused value becomes legacy's 400 `{"error": ...}`."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise LegacyError(400, {"error": f"Invalid value for {field}"}) from exc
