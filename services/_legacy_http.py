"""Werkzeug's HTML error pages, so routing misses on migrated paths look like Flask's."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from starlette.responses import Response

_DESCRIPTIONS = {
    404: (
        "The requested URL was not found on the server. If you entered the URL manually please check"
        " your spelling and try again."
    ),
    405: "The method is not allowed for the requested URL.",
    400: "The browser (or proxy) sent a request that this server could not understand.",
    415: ("Did not attempt to load JSON data because the request Content-Type was not 'application/json'."),
}


def werkzeug_error_body(status_code: int, description: str | None = None) -> str:
    name = HTTPStatus(status_code).phrase
    text = description or _DESCRIPTIONS.get(status_code, "")
    return (
        "<!doctype html>\n<html lang=en>\n"
        f"<title>{status_code} {name}</title>\n<h1>{name}</h1>\n<p>{text}</p>\n"
    )


def werkzeug_error_response(
    status_code: int, *, description: str | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        werkzeug_error_body(status_code, description),
        status_code=status_code,
        media_type="text/html; charset=utf-8",
        headers=dict(headers or {}),
    )
