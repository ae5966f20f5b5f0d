"""Schemas shared by every migrated router, and the OpenAPI helpers they use."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class LegacyErrorBody(BaseModel):
    """Legacy's error shape: `{"error": "<message>"}` (some add `code` or `details`)."""

    model_config = ConfigDict(extra="allow")

    error: str


class ServiceErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str


class ServiceErrorBody(BaseModel):
    """The new endpoints' error shape: `{"error": {"code", "message", "request_id"}}`."""

    error: ServiceErrorDetail


class MessageRead(BaseModel):
    message: str


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inline(value, defs) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value, defs) for value in node]
    return node


def json_body_doc(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` that documents a JSON body the handler parses itself (legacy-style).

    Nested models are written inline: pydantic refers to them as `#/$defs/Name`, which inside
    an OpenAPI document would resolve against the document's root, where there is no `$defs`.
    """
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": _inline(schema, defs)}},
        }
    }


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": LegacyErrorBody} for code in codes}
