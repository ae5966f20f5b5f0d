"""What the legacy (Flask + werkzeug) app does at the HTTP edges, reproduced for migrated routes.

- Request bodies: `request.get_json(silent=True)`: JSON only for a JSON content type, and
  `None` (never an error) for a missing, malformed or non-object body.
- Query strings: `request.args.get(name, default, type=int)`: a value that `int()` refuses
  falls back to the default, never an error. `request.args.get` is the FIRST value of a
  repeated name and `request.cookies.get` the first of a repeated cookie (werkzeug's
  MultiDicts); Starlette keeps the last. Repeated Cookie headers reach legacy joined with ","
  into one (its WSGI server does that), Starlette reads only the first. `WerkzeugFirstValues`
  rewrites the query string and the Cookie header(s) once, at the edge, so every handler,
  FastAPI `Query()` and the session reader see werkzeug's values
  (`DELETE /api/artists/5?force=false&force=true` is not forced).
- Routing misses under `/api/`: `{"error": "<HTTP reason>"}` (legacy's error handler), and a
  308 to the slash URL when only the trailing slash is missing (werkzeug's strict slashes).
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import parse_qsl, quote

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" codec error handler
from fastapi import Request
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from werkzeug.sansio.http import parse_cookie

from services._legacy_json import LegacyJSONResponse, legacy_json, loads_text

__all__ = ["LegacyJSONResponse", "legacy_json"]

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
        body = loads_text(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


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


RAW_QUERY_KEY = "figway.raw_query_string"


def werkzeug_args(query_string: bytes) -> list[tuple[str, str]]:
    """`request.args` of werkzeug 3 as (name, value) pairs, in order (invalid escapes kept)."""
    try:
        text = query_string.decode()
    except UnicodeDecodeError:
        text = query_string.decode("latin-1")
    return parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")


def _first_values(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    first = []
    for name, value in pairs:
        if name not in seen:
            seen.add(name)
            first.append((name, value))
    return first


def first_value_query(query_string: bytes) -> bytes | None:
    """A query string Starlette reads as werkzeug's `args.get` does, or None when it already does."""
    pairs = werkzeug_args(query_string)
    first = _first_values(pairs)
    starlette_view = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if len(first) == len(pairs) and pairs == starlette_view:
        return None
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in first).encode("ascii")


def _cookie_token(value: str) -> str:
    if value and all(c not in value for c in ' ;",\\'):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def first_value_cookies(header: str) -> str | None:
    """A Cookie header Starlette reads as werkzeug's `request.cookies` (first of each name), or None."""
    werkzeug_view = parse_cookie(header)
    first = {name: werkzeug_view[name] for name in werkzeug_view}
    if first == cookie_parser(header):
        return None
    return "; ".join(f"{name}={_cookie_token(value)}" for name, value in first.items())


class WerkzeugFirstValues:
    """Rewrite the query string and Cookie header so Starlette reads werkzeug's first values.

    The original query string stays in the scope under RAW_QUERY_KEY (werkzeug's slash
    redirect repeats it verbatim in Location).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"")
            rewritten = first_value_query(query) if query else None
            if rewritten is not None:
                scope = {**scope, "query_string": rewritten, RAW_QUERY_KEY: query}
            headers = scope["headers"]
            values = [value for name, value in headers if name == b"cookie"]
            if values:
                # Repeated Cookie headers reach a WSGI app as ONE HTTP_COOKIE, joined with ","
                # (gunicorn and werkzeug's server alike); Starlette reads only the first header.
                joined = b",".join(values).decode("latin-1")
                cookies = first_value_cookies(joined)
                if cookies is not None or len(values) > 1:
                    at = next(i for i, (name, _) in enumerate(headers) if name == b"cookie")
                    fixed = (b"cookie", (joined if cookies is None else cookies).encode("latin-1"))
                    rest = [pair for pair in headers[at + 1 :] if pair[0] != b"cookie"]
                    scope = {**scope, "headers": [*headers[:at], fixed, *rest]}
        await self.app(scope, receive, send)
