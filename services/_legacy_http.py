"""What the legacy (Flask + werkzeug) app does at the HTTP edges, reproduced for migrated routes.

- Request bodies: `request.get_json(silent=True)`: JSON only for a JSON content type, and
  `None` (never an error) for a missing, malformed or non-object body.
- Query strings: `request.args.get(name, default, type=int)`: a value that `int()` refuses
  falls back to the default, never an error.
- Routing misses under `/api/`: `{"error": "<HTTP reason>"}` (legacy's error handler), and a
  308 to the slash URL when only the trailing slash is missing (werkzeug's strict slashes).
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

_TRUE = {"true", "1", "yes", "on"}


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def flag(value: Any) -> bool:
    """Legacy's loose truthiness for query strings and JSON bodies."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE


def arg_flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    return flag(raw)


def arg_int(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return default


def _is_json_mimetype(content_type: str) -> bool:
    mimetype = content_type.split(";", 1)[0].strip().lower()
    if mimetype == "application/json":
        return True
    return mimetype.startswith("application/") and mimetype.endswith("+json")


async def json_body(request: Request) -> dict[str, Any] | None:
    """The JSON object of the request, or None when there is none (or it is not an object)."""
    if not _is_json_mimetype(request.headers.get("content-type", "")):
        return None
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


class LegacyJSONResponse(JSONResponse):
    """Compact UTF-8 JSON, encoded by orjson (several times faster than the stdlib on list pages).

    orjson refuses integers past 64 bits and non-string keys, which a stored JSON column could
    hold; those bodies fall back to the stdlib encoder, so every answer still goes out.
    """

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:  # orjson.JSONEncodeError
            return super().render(content)


def legacy_json(body: Any, status_code: int = 200) -> JSONResponse:
    return LegacyJSONResponse(body, status_code=status_code)


def werkzeug_redirect(location: str, status_code: int = 308) -> Response:
    """Werkzeug's redirect page, as `RequestRedirect` answers a URL missing its slash."""
    html_location = escape(location)
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
        "<p>You should be redirected automatically to the target URL: "
        f'<a href="{html_location}">{html_location}</a>. If not, click the link.\n'
    )
    return Response(
        body, status_code=status_code, media_type="text/html; charset=utf-8", headers={"Location": location}
    )


class HeadAsGet:
    """Answer HEAD like GET (werkzeug adds HEAD to every GET rule); uvicorn drops the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope = {**scope, "method": "GET"}
        await self.app(scope, receive, send)
