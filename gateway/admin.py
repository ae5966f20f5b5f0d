"""The admin API under ``/_gateway`` (FastAPI; the proxied paths never reach it).

Every endpoint except ``/_gateway/healthz`` needs ``Authorization: Bearer <GATEWAY_ADMIN_TOKEN>``
(compared in constant time). Without a configured token the admin API answers loopback clients only.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from gateway.admin_contract import (
    ROUTE_LINKS,
    SafeJSONResponse,
    document_admin_contract,
    error_response,
    install_error_handlers,
)
from gateway.compiler import CompiledRoute, CompiledTable
from gateway.config import parse_phase_start
from gateway.rollout import NEVER, PhaseDecider, phase_at, phase_instant

if TYPE_CHECKING:
    from gateway.app import Gateway

PREFIX = "/_gateway"
#: What ``explain?at=`` accepts: a date-time (offset optional) or an ISO week; never a bare number.
_INSTANT = re.compile(r"^\d{4}-(W\d{2}|\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)$")


def _iso(instant: float | None) -> str | None:
    if instant is None or instant in (NEVER, -NEVER):
        return None
    return datetime.fromtimestamp(instant, UTC).isoformat()


def describe_route(table: CompiledTable, route: CompiledRoute, now: float) -> dict[str, Any]:
    phase, next_flip = phase_at(route.schedule, now)
    decision = PhaseDecider().decide(route, phase, {})
    return {
        "id": route.id,
        "path": route.template.source,
        "methods": sorted(route.methods) if route.methods is not None else None,
        "mode": decision.mode,
        "percent": phase.percent,
        "upstream": decision.upstream,
        "target": route.target,
        "legacy": route.legacy,
        "fallback": route.fallback,
        "next_flip": _iso(next_flip),
        "rollout": [{"from": _iso(p.start), "mode": p.mode, "percent": p.percent} for p in route.schedule],
        "guard": route.guard.model_dump() if route.guard else None,
        "shadow": route.shadow.model_dump() if route.shadow else None,
        "rate_limit": [quota.describe() for quota in route.quotas],
        "line": route.line,
    }


def _pin(gateway: Gateway, route_id: str) -> dict[str, Any] | None:
    pin = gateway.cutover.pins.get(route_id)
    return pin.as_json() if pin is not None else None


def build_admin(gateway: Gateway) -> FastAPI:
    token = gateway.settings.admin_token.get_secret_value().encode() if gateway.settings.admin_token else None

    def require_admin(request: Request) -> None:
        if token is None:
            host = request.client.host if request.client else ""
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise HTTPException(
                    403, "the admin API answers only loopback clients when no admin token is set"
                )
            return
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token):
            raise HTTPException(401, "admin token required", headers={"WWW-Authenticate": "Bearer"})

    admin = Depends(require_admin)
    app = FastAPI(
        title="figway admin",
        version="1",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        default_response_class=SafeJSONResponse,
    )

    #: Extensions (the cutover machinery) protect their routes with the same dependency.
    app.state.require_admin = admin

    install_error_handlers(app)
    document_admin_contract(app, public=frozenset({f"{PREFIX}/healthz"}))

    @app.get(f"{PREFIX}/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        f"{PREFIX}/api/routes",
        dependencies=[admin],
        tags=["routes"],
        operation_id="list_routes",
        responses={200: {"description": "Every route of the active table", "links": ROUTE_LINKS}},
    )
    async def routes() -> dict[str, Any]:
        table = gateway.tables.table
        now = table.board.now()
        return {
            "default": table.default,
            "routes": [
                {**describe_route(table, route, now), "pinned": _pin(gateway, route.id)}
                for route in table.routes
            ],
        }

    @app.get(f"{PREFIX}/api/status", dependencies=[admin], tags=["status"])
    async def status() -> dict[str, Any]:
        table = gateway.tables.table
        last = gateway.reloader.last
        cutover_upstreams = gateway.cutover.upstream_state()
        return {
            "table": {
                "file": table.source,
                "version": table.version,
                "sha256": table.sha256,
                "loaded_at": _iso(table.loaded_at),
                "routes": len(table.routes),
                "timezone": table.timezone,
                "next_flip": _iso(table.board.next_flip),
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
            "route_headers": gateway.settings.route_headers,
        }

    @app.post(f"{PREFIX}/api/reload", dependencies=[admin], tags=["reload"])
    @app.post(f"{PREFIX}/reload", dependencies=[admin], tags=["reload"], include_in_schema=False)
    async def reload() -> JSONResponse:
        result = await gateway.reloader.reload("api")
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
    ) -> dict[str, Any]:
        table = gateway.tables.table
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
        result = table.explain(method, path, at=when).as_dict()
        if result["error"] is not None:
            raise HTTPException(400, str(result["error"]).removeprefix("400: "))
        return result

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
        return PlainTextResponse(gateway.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app
