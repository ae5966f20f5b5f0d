"""What the admin API promises its clients: one error body, documented statuses, answers that render.

Every error the admin API produces has the gateway's error shape
``{"error": {"code", "message", "request_id"}}`` (plus ``details`` for a 422), and every status an
operation can answer is declared in its OpenAPI entry (``responses_for``), so a client generated
from ``/_gateway/openapi.json`` handles each answer and schemathesis' conformance checks hold.

Input that is not valid Unicode (a lone surrogate such as ``"\\udc80"``, legal in JSON text) is
refused at the boundary; and the JSON renderer replaces any such character that reaches an answer
anyway (state written by an older version, a reason set by the guard) instead of failing, so no
stored value can turn a later read into a 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

_SURROGATE = re.compile("[\ud800-\udfff]")
#: Longest operator-given pin reason (it is shown on the dashboard and kept in the pin store).
MAX_REASON = 500

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid_request",
}


def _unicode_only(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


class PinRequest(BaseModel):
    """Body of ``POST /_gateway/api/routes/{route_id}/pin`` (optional)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=MAX_REASON, description="why the route is pinned to legacy")

    @field_validator("reason")
    @classmethod
    def _check_reason(cls, value: str | None) -> str | None:
        return None if value is None else _unicode_only(value)


def _clean(value: Any) -> Any:
    """Replace lone surrogates, recursively: the slow path, only taken when rendering failed."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {_clean(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


class SafeJSONResponse(JSONResponse):
    """Starlette's JSON answer that never fails on a string that is not valid Unicode."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return super().render(_clean(content))


class SafeHTMLResponse(HTMLResponse):
    """HTML answer that replaces a character UTF-8 cannot encode instead of failing."""

    def render(self, content: Any) -> bytes | memoryview:
        if isinstance(content, str):
            content = _SURROGATE.sub("\ufffd", content)
        return super().render(content)


def error_body(status: int, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": _CODES.get(status, "error"), "message": message, "request_id": None}
    if details is not None:
        error["details"] = details
    return {"error": error}


def _validation_details(errors: Sequence[Any]) -> list[dict[str, Any]]:
    # Only where and what: echoing the input back is how a bad string broke its own 422 once.
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "type": str(error.get("type", "")),
            "message": str(error.get("msg", "")),
        }
        for error in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Every error answer of ``app`` in the one error shape, rendered safely."""

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return SafeJSONResponse(
            _clean(error_body(exc.status_code, str(exc.detail))),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc.errors())
        summary = "; ".join(f"{'.'.join(d['loc'])}: {d['message']}" for d in details)
        return SafeJSONResponse(
            _clean(error_body(422, summary or "invalid request", details)), status_code=422
        )


#: The error body as an inline JSON schema (OpenAPI 3.1), so every document states it the same way.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "request_id"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "request_id": {"type": ["string", "null"]},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}
SECURITY_SCHEME = "AdminToken"


#: OpenAPI links, so that a generated client (and schemathesis' stateful phase) can list the routes,
#: pin one and release it again.
ROUTE_LINKS: dict[str, Any] = {
    "Pin": {"operationId": "pin_route", "parameters": {"route_id": "$response.body#/routes/0/id"}},
    "Release": {"operationId": "release_route", "parameters": {"route_id": "$response.body#/routes/0/id"}},
}
RELEASE_LINK: dict[str, Any] = {
    "operationId": "release_route",
    "parameters": {"route_id": "$request.path.route_id"},
}


def error_response(description: str, *, headers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One documented error answer (for a route's ``responses=``)."""
    entry: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }
    if headers:
        entry["headers"] = dict(headers)
    return entry


def _fastapi_default(entry: Any) -> bool:
    """FastAPI's own 422 entry (HTTPValidationError), which the error handler here replaces."""
    return isinstance(entry, dict) and "HTTPValidationError" in json.dumps(entry)


def document_admin_contract(app: FastAPI, *, public: frozenset[str]) -> None:
    """Complete ``app``'s OpenAPI document with the answers every operation can give.

    Protected operations (all but ``public`` paths) declare the bearer scheme and their 401/403;
    operations with parameters or a body get the 422 in this error shape instead of FastAPI's; those
    with a body also the 400 for an unreadable one. Done once, on the generated document, so that a
    route added later is documented without anyone remembering to.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        components = document.setdefault("components", {})
        components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {"type": "http", "scheme": "bearer"}
        for path, item in document.get("paths", {}).items():
            for operation in item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                if path not in public:
                    operation["security"] = [{SECURITY_SCHEME: []}]
                    responses["401"] = error_response(
                        "The admin token is missing or wrong (GATEWAY_ADMIN_TOKEN is set).",
                        headers=_WWW_AUTHENTICATE,
                    )
                    responses["403"] = error_response(
                        "No admin token is configured and the client is not on loopback."
                    )
                if _fastapi_default(responses.get("422")) or (
                    "422" not in responses and (operation.get("parameters") or "requestBody" in operation)
                ):
                    responses["422"] = error_response(
                        "A parameter or the body is invalid; `details` says where (never echoing the input)."
                    )
                if "requestBody" in operation:
                    responses["400"] = error_response(
                        "The body could not be read (bytes that are not UTF-8)."
                    )
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
