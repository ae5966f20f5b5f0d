"""Small helpers the MVidarr API modules repeat inline (isoformat, JSON bodies, flags)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify, request


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def json_body() -> dict[str, Any] | None:
    """The JSON object of the request, or None when there is none (or it is not an object)."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def error(message: str, status: int) -> Any:
    return jsonify({"error": message}), status


def flag(value: Any) -> bool:
    """MVidarr's loose truthiness for query strings and JSON bodies."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "1", "yes", "on"}


def arg_flag(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    return flag(raw)
