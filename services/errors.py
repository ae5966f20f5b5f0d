"""Errors the services answer with, and the handlers that render them.

Two shapes, one hierarchy:

    ServiceError                 new endpoints: {"error": {"code", "message", "request_id"}}
    ├── NotFound / Conflict / Forbidden / Unauthorized / BadRequest
    LegacyError                  migrated endpoints: exactly the legacy body, e.g. {"error": "..."}

Raise them from handlers or repositories; `install_error_handlers(app)` renders them. Bad
input never becomes a 500 with a traceback: unexpected exceptions are logged and answered
with a generic body (shape chosen by the route family, see `_is_legacy_path`).
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import _legacy_routing
from services._bounds import Unstorable
from services._error_types import BadRequest as BadRequest
from services._error_types import Conflict as Conflict
from services._error_types import Forbidden as Forbidden
from services._error_types import LegacyError as LegacyError
from services._error_types import NotFound as NotFound
from services._error_types import ServiceError as ServiceError
from services._error_types import Unauthorized as Unauthorized
from services._error_types import legacy_error as legacy_error
from services._legacy_http import RAW_QUERY_KEY, werkzeug_redirect
from services._legacy_json import LegacyJSONResponse
from services._legacy_paths import LEGACY_AUTH_PATHS as LEGACY_AUTH_PATHS

logger = logging.getLogger("services.errors")

REQUEST_ID_HEADER = "X-Request-ID"
# Route families that keep the legacy contract (their errors are `{"error": "<message>"}`).
LEGACY_PREFIXES = ("/api/",)
# Legacy's other blueprints: werkzeug's own HTML pages for routing misses (legacy re-raises them).
LEGACY_HTML_PREFIXES = ("/auth/", "/admin/")


def request_id(request: Request) -> str:
    rid = request.headers.get(REQUEST_ID_HEADER)
    return rid if rid and len(rid) <= 200 else uuid.uuid4().hex


def _is_legacy_path(path: str) -> bool:
    return path.startswith(LEGACY_PREFIXES) or path == "/api"


def is_legacy_route(path: str) -> bool:
    """Whether `path` keeps legacy's contract (`/api/...` and the legacy `/auth` endpoints)."""
    return path.startswith(LEGACY_PREFIXES) or path in LEGACY_AUTH_PATHS


def service_error_response(request: Request, status_code: int, code: str, message: str) -> LegacyJSONResponse:
    rid = request_id(request)
    return LegacyJSONResponse(
        {"error": {"code": code, "message": message, "request_id": rid}},
        status_code=status_code,
        headers={REQUEST_ID_HEADER: rid},
    )


async def _on_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return service_error_response(request, exc.status_code, exc.code, exc.message)


async def _on_legacy_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LegacyError)
    return LegacyJSONResponse(exc.body, status_code=exc.status_code)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _is_legacy_path(request.url.path):
        # Migrated handlers validate their own input to reproduce legacy messages; this is the net.
        return LegacyJSONResponse({"error": "Invalid request"}, status_code=400)
    details = "; ".join(
        f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', '')}" for err in exc.errors()
    )
    return service_error_response(request, 422, "validation_error", details or "invalid request")


def is_werkzeug_routed(path: str) -> bool:
    """Legacy's paths, whose routing misses werkzeug answers (JSON under /api, HTML elsewhere)."""
    return _is_legacy_path(path) or path.startswith(LEGACY_HTML_PREFIXES)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 404 and is_werkzeug_routed(request.url.path):
        # werkzeug merges repeated slashes first: a rule that takes the merged path makes it a 405
        status = 405 if _legacy_routing.not_allowed_once_merged(request) else 404
    if status in (404, 405):
        legacy_answer = await _routing_miss(request, status)
        if legacy_answer is not None:
            return legacy_answer
    if _is_legacy_path(request.url.path):
        # Legacy's HTTPException handler: {"error": exc.name}. It drops werkzeug's Allow; services
        # keep it on a 405 (RFC 9110 15.5.6; differences.yaml: method-not-allowed-carries-allow).
        answer = LegacyJSONResponse({"error": HTTPStatus(status).phrase}, status_code=status)
        if status == 405:
            answer.headers["Allow"] = ", ".join(_legacy_routing.allowed_methods(request))
        return answer
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")
    response = service_error_response(request, status, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _routing_miss(request: Request, status: int) -> Response | None:
    """A path or method no route takes, answered in legacy's order (see services/_legacy_routing.py).

    Legacy's login guard runs before werkzeug's routing result is raised, so under `/api/` an
    anonymous caller meets the 401 first; then the 308 (merged slashes, missing trailing
    slash), the automatic OPTIONS answer, and outside `/api` werkzeug's HTML error pages.
    """
    # Deferred: importing the guard loads the services.auth package, whose access rules import
    # this module.
    from services.guard import guard_answer

    path = request.url.path
    if not is_werkzeug_routed(path):
        return None  # a services-only path (/healthz, /metrics): the structured error
    blocked = await guard_answer(request)
    if blocked is not None:
        return blocked
    # A 405 means a rule took the path itself (werkzeug matches it before any redirect).
    target = _legacy_routing.redirect_target(request) if status == 404 else None
    if target is not None:
        return _redirect_to(request, target)
    methods = _legacy_routing.allowed_methods(request) if status == 405 else []
    if request.method == "OPTIONS" and methods:
        return _legacy_routing.options_answer(methods)
    if path.startswith(LEGACY_HTML_PREFIXES):
        return _legacy_routing.werkzeug_error_page(status, methods)
    return None


def _redirect_to(request: Request, path: str) -> Response:
    host = request.headers.get("host", "localhost")
    raw = request.scope.get(RAW_QUERY_KEY) or request.scope.get("query_string", b"")
    query = f"?{raw.decode('latin-1')}" if raw else ""
    return werkzeug_redirect(f"{request.url.scheme}://{host}{quote(path, safe='/:|%')}{query}")


async def _on_unstorable(request: Request, exc: Exception) -> Response:
    # A value no database can take (services/_bounds.py); legacy lets it reach the driver: 500.
    message = exc.message if isinstance(exc, Unstorable) else "Invalid value: does not fit its column"
    logger.info("request.refused path=%s reason=%s", request.url.path, message)
    if is_legacy_route(request.url.path):
        return LegacyJSONResponse({"error": message}, status_code=400)
    return service_error_response(request, 400, "invalid_value", message)


#: MariaDB's "CONSTRAINT ... failed": a CHECK such as a JSON column's JSON_VALID refused the value.
CHECK_CONSTRAINT_FAILED = 4025


async def _on_operational(request: Request, exc: Exception) -> Response:
    orig = getattr(exc, "orig", None)
    code = orig.args[0] if orig is not None and orig.args else None
    if code == CHECK_CONSTRAINT_FAILED:  # e.g. {"keywords": NaN}: not JSON MariaDB accepts
        return await _on_unstorable(request, exc)
    raise exc  # a real fault: UnhandledErrors logs it and answers 500


def _unexpected_response(request: Request) -> Response:
    if _is_legacy_path(request.url.path):
        # Legacy answers 500 {"error": str(e)}; we keep the shape, not the leaked internals.
        return LegacyJSONResponse({"error": "Internal server error"}, status_code=500)
    return service_error_response(request, 500, "internal_error", "Internal server error")


class UnhandledErrors:
    """Turn an unexpected exception into a 500 *without* re-raising it.

    Starlette's own last-resort handler re-raises after answering, which makes uvicorn drop
    the keep-alive connection; the gateway's pooled client would then see a reset on reuse.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:
                raise
            request = Request(scope)
            logger.exception("request.failed path=%s", request.url.path)
            await _unexpected_response(request)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(LegacyError, _on_legacy_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Unstorable, _on_unstorable)
    # MariaDB (strict mode) refusing a value for its column is the client's input, not a fault.
    app.add_exception_handler(DataError, _on_unstorable)
    app.add_exception_handler(OperationalError, _on_operational)
    app.add_middleware(UnhandledErrors)
