"""The admin API under ``/_gateway`` (FastAPI; the proxied paths never reach it).

Every path except ``/_gateway/healthz`` needs ``Authorization: Bearer <GATEWAY_ADMIN_TOKEN>``
(compared in constant time), the OpenAPI document and its docs page included. Without a configured
token the admin API answers loopback clients only (see :mod:`gateway.admin.access`).
The app builds it with :class:`AdminParts` and mounts the other admin routers on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import Field

from gateway.admin.access import PREFIX, PUBLIC_PATHS, AdminAccess
from gateway.admin.contract import (
    ROUTE_LINKS,
    SafeJSONResponse,
    document_admin_contract,
    error_response,
    install_error_handlers,
)
from gateway.admin.readmodel import iso, side_now
from gateway.compiler import CompiledRoute, CompiledTable, TableRef
from gateway.cutover import Cutover
from gateway.explain import explain as explain_request
from gateway.metrics import GatewayMetrics
from gateway.reload import Reloader
from gateway.rollout import phase_at, phase_instant
from gateway.routing_schema import parse_phase_start
from gateway.settings import GatewaySettings

#: ``explain?header=``: an RFC 9110 field name, a colon, a Latin-1 value.
_HEADER_ITEM = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*$"
#: What ``explain?at=`` accepts: a date-time (offset optional) or an ISO week; never a bare number.
_INSTANT = re.compile(r"^\d{4}-(W\d{2}|\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)$")


@dataclass(frozen=True, slots=True)
class AdminParts:
    """What the admin API reads and acts on (the app hands it over; the admin never sees the app)."""

    settings: GatewaySettings
    tables: TableRef
    reloader: Reloader
    metrics: GatewayMetrics
    cutover: Cutover


def describe_route(
    cutover: Cutover, table: CompiledTable, route: CompiledRoute, now: float
) -> dict[str, Any]:
    phase, next_flip = phase_at(route.schedule, now)
    side = side_now(cutover, table, route, now)
    pin = cutover.pins.get(route.id)
    return {
        "id": route.id,
        "path": route.template.source,
        "methods": sorted(route.methods) if route.methods is not None else None,
        "mode": phase.mode,
        "percent": phase.percent,
        # the serving decider's answer for a request without identity; None for a canary bucket split
        "upstream": side.upstream,
        "side": side.side,
        "why": side.why,
        "target": route.target,
        "legacy": route.legacy,
        "fallback": route.fallback,
        "next_flip": iso(next_flip),
        "rollout": [{"from": iso(p.start), "mode": p.mode, "percent": p.percent} for p in route.schedule],
        "guard": route.guard.model_dump() if route.guard else None,
        "shadow": route.shadow.model_dump() if route.shadow else None,
        "rate_limit": [quota.describe() for quota in route.quotas],
        "line": route.line,
        "pinned": pin.as_json() if pin is not None else None,
    }


def _header_pairs(values: list[str]) -> tuple[tuple[bytes, bytes], ...]:
    pairs = []
    for item in values:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise HTTPException(422, f"header {item!r} is not 'Name: value'")
        try:
            pairs.append((name.strip().lower().encode("latin-1"), value.strip().encode("latin-1")))
        except UnicodeEncodeError:
            raise HTTPException(422, "header names and values must be Latin-1 text (RFC 9110 5.5)") from None
    return tuple(pairs)


def build_admin(parts: AdminParts) -> FastAPI:
    access = AdminAccess(
        parts.settings.admin_token.get_secret_value() if parts.settings.admin_token else None
    )
    admin = Depends(access)
    app = FastAPI(
        title="figway admin",
        version="1",
        # served below behind the same dependency as every other admin path
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        default_response_class=SafeJSONResponse,
    )
    #: Other admin routers (cutover, dashboard) protect their routes with the same dependency.
    app.state.require_admin = admin
    app.state.admin_access = access

    install_error_handlers(app)
    document_admin_contract(app, public=PUBLIC_PATHS)

    @app.get(f"{PREFIX}/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(f"{PREFIX}/openapi.json", dependencies=[admin], include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(f"{PREFIX}/docs", dependencies=[admin], include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=f"{PREFIX}/openapi.json", title="figway admin")

    @app.get(
        f"{PREFIX}/api/routes",
        dependencies=[admin],
        tags=["routes"],
        operation_id="list_routes",
        responses={200: {"description": "Every route of the active table", "links": ROUTE_LINKS}},
    )
    async def routes() -> dict[str, Any]:
        table = parts.tables.table
        now = table.board.now()
        return {
            "default": table.default,
            "routes": [describe_route(parts.cutover, table, route, now) for route in table.routes],
        }

    @app.get(f"{PREFIX}/api/status", dependencies=[admin], tags=["status"])
    async def status() -> dict[str, Any]:
        table = parts.tables.table
        last = parts.reloader.last
        cutover_upstreams = parts.cutover.upstream_state()
        return {
            "table": {
                "file": table.source,
                "version": table.version,
                "sha256": table.sha256,
                "loaded_at": iso(table.loaded_at),
                "routes": len(table.routes),
                "timezone": table.timezone,
                "next_flip": iso(table.board.next_flip),
            },
            "upstreams": {
                name: {
                    "url": up.url,
                    "health": up.health,
                    "breaker": cutover_upstreams.get(name, {}).get("breaker"),
                    "health_check": cutover_upstreams.get(name, {}).get("health"),
                }
                for name, up in table.upstreams.items()
            },
            "last_reload": last.as_dict() if last else None,
            "route_headers": parts.settings.route_headers,
        }

    @app.post(
        f"{PREFIX}/api/reload",
        dependencies=[admin],
        tags=["reload"],
        responses={
            422: {
                "description": "The file was refused (the last good table stays); every issue is listed.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    @app.post(f"{PREFIX}/reload", dependencies=[admin], tags=["reload"], include_in_schema=False)
    async def reload() -> JSONResponse:
        result = await parts.reloader.reload("api")
        return JSONResponse(result.as_dict(), status_code=200 if result.ok else 422)

    @app.get(
        f"{PREFIX}/api/explain",
        dependencies=[admin],
        tags=["routes"],
        responses={400: error_response("The path is one the proxy refuses (it would answer 400).")},
    )
    async def explain(
        method: Annotated[str, Query(min_length=1, max_length=16, pattern=r"^[A-Za-z]+$")],
        path: Annotated[str, Query(min_length=1, max_length=8192, pattern=r"^/")],
        at: Annotated[
            str | None,
            Query(
                max_length=64,
                json_schema_extra={"format": "date-time"},
                description="RFC 3339 date-time (default: now); a date-time without offset, or an ISO "
                "week (2026-W50), is read in the table's timezone",
            ),
        ] = None,
        header: Annotated[
            list[Annotated[str, Field(max_length=8192, pattern=_HEADER_ITEM)]] | None,
            Query(description="a request header, 'Name: value' (identity, override)"),
        ] = None,
        client: Annotated[str | None, Query(max_length=64, description="the client address")] = None,
    ) -> dict[str, Any]:
        table = parts.tables.table
        when = None
        if at is not None:
            try:
                if not _INSTANT.match(at):
                    raise ValueError(
                        "`at` must be a date-time (2026-12-08T12:00:00Z) or an ISO week (2026-W50)"
                    )
                when = phase_instant(parse_phase_start(at), ZoneInfo(table.timezone))
            except (ValueError, OverflowError) as exc:
                raise RequestValidationError(
                    [{"loc": ("query", "at"), "type": "value_error", "msg": str(exc)}]
                ) from None
        headers = _header_pairs(header or [])
        found = explain_request(
            table, parts.cutover.decider, method, path, at=when, headers=headers, client=client
        )
        if found.error is not None:
            raise HTTPException(400, found.error.removeprefix("400: "))
        return found.as_dict()

    @app.get(
        f"{PREFIX}/metrics",
        dependencies=[admin],
        tags=["metrics"],
        response_class=PlainTextResponse,
        responses={
            200: {
                "description": "Prometheus text exposition format (not JSON).",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(parts.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app
