"""Schemas shared by every migrated router, and the OpenAPI helpers they use."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class LegacyErrorBody(BaseModel):
    """Legacy's error shape: `{"error": "<message>"}` (some add `code` or `details`)."""

    model_config = ConfigDict(extra="allow")

    error: str


class MessageRead(BaseModel):
    message: str


def json_body_doc(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` that documents a JSON body the handler parses itself (legacy-style)."""
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": LegacyErrorBody} for code in codes}
