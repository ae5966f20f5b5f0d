"""The services' OpenAPI document, completed with what the handlers answer on their own.

FastAPI documents what it sees in signatures: response models, declared bodies, its own 422.
The rest is stated here once, from the same sources the answers come from, so a client
generated from `/openapi.json` (and schemathesis' conformance checks) sees every answer:

- 401 (and 403) from the route's access rules (`services.auth.access.route_rules`);
- 400 instead of FastAPI's 422 on legacy routes (`services.errors` answers legacy's 400);
- 400 on every operation with a body: text that is not valid Unicode (`services._bounds`);
- the statuses and bodies of handlers that read their request themselves (`HANDLED` below).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from services.auth.access import route_rules
from services.errors import is_legacy_route
from services.models import UserRole
from services.schemas import LegacyErrorBody, ServiceErrorBody, json_body_doc


class Credentials(BaseModel):
    """Legacy's login body: JSON, or the same fields form-encoded."""

    username: str = Field(pattern=r"\S")  # legacy strips it: blank is "required"
    password: str = Field(min_length=1)


class RoleForm(BaseModel):
    """Legacy's admin role change: a form field (any case; legacy upper-cases it)."""

    role: UserRole


class BulkEnrichment(BaseModel):
    artist_ids: list[int]
    force_refresh: bool = False


def _form_body(model: type[BaseModel]) -> dict[str, Any]:
    schema = json_body_doc(model)["requestBody"]["content"]["application/json"]["schema"]
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def _credentials_body() -> dict[str, Any]:
    doc = json_body_doc(Credentials)
    schema = doc["requestBody"]["content"]["application/json"]["schema"]
    body: dict[str, Any] = doc["requestBody"]
    body["content"]["application/x-www-form-urlencoded"] = {"schema": schema}
    return body


# (method, path) -> (statuses the handler answers itself, request body it reads itself)
HANDLED: dict[tuple[str, str], tuple[tuple[int, ...], dict[str, Any] | None]] = {
    ("post", "/auth/login"): ((400, 401, 429), _credentials_body()),
    ("post", "/auth/token"): ((400, 401, 429), _credentials_body()),
    ("post", "/auth/refresh"): ((401,), None),
    ("post", "/auth/session-exchange"): ((401,), None),
    ("post", "/auth/api-keys"): ((404,), None),
    ("delete", "/auth/api-keys/{key_id}"): ((404,), None),
    ("put", "/auth/users/{user_id}/role"): ((404, 409), None),
    ("post", "/api/metadata-enrichment/enrich"): ((400,), json_body_doc(BulkEnrichment)["requestBody"]),
    ("post", "/admin/api/users/{user_id}/role"): ((400, 404), _form_body(RoleForm)),
    ("post", "/admin/api/users/{user_id}/toggle-active"): ((400, 404), None),
    ("post", "/api/metadata-enrichment/enrich/{artist_id}"): ((404,), None),
    ("post", "/api/videos/{video_id}/refresh-metadata"): ((404,), None),
}
_CONVERTER = re.compile(r"\{(\w+):\w+\}")
_FORBIDDING = ("role>=", "can_modify", "can_delete", "admin")
# Legacy's bodies outside /api: the legacy /auth endpoints and the /admin/system routes.
LEGACY_BODIES_PREFIXES = ("/admin/",)


def _error(legacy: bool, description: str) -> dict[str, Any]:
    name = "LegacyErrorBody" if legacy else "ServiceErrorBody"
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def _complete(path: str, method: str, operation: dict[str, Any], rules: list[str]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    legacy = is_legacy_route(path) or path.startswith(LEGACY_BODIES_PREFIXES)
    if legacy and "422" in responses:
        del responses["422"]  # never answered: services.errors turns it into legacy's 400
        responses.setdefault("400", _error(True, "Invalid request"))
    statuses, body = HANDLED.get((method, path), ((), None))
    if body is not None:
        operation["requestBody"] = body
    if any(rule != "public" for rule in rules):
        responses.setdefault("401", _error(legacy, "Authentication required"))
    if any(rule.startswith(_FORBIDDING) for rule in rules):
        responses.setdefault("403", _error(legacy, "Insufficient permissions"))
    if "requestBody" in operation:
        responses.setdefault("400", _error(legacy, "Invalid value (e.g. text that is not valid Unicode)"))
    for status in statuses:
        responses.setdefault(str(status), _error(legacy, "Refused"))
    if path.startswith(LEGACY_BODIES_PREFIXES) and "{" in path:
        # A path whose id is not an integer is werkzeug's own HTML 404 page, as on legacy.
        not_found = responses.setdefault("404", _error(legacy, "Not found"))
        not_found["content"]["text/html"] = {"schema": {"type": "string"}}
    if method == "post" and path == "/api/metadata-enrichment/enrich":
        responses["200"] = {
            "description": "One JSON line per artist as it finishes, then a summary line",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }


def openapi_document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, routes=app.routes)
    rules = {_CONVERTER.sub(r"{\1}", key): found for key, found in route_rules(app).items()}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _complete(path, method, operation, rules.get(f"{method.upper()} {path}", []))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (LegacyErrorBody, ServiceErrorBody):
        schemas.setdefault(
            model.__name__, json_body_doc(model)["requestBody"]["content"]["application/json"]["schema"]
        )
    app.openapi_schema = document
    return document


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
