"""The cutover endpoints of the admin API (JSON): state, diffs, coverage, history, upstreams, pins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, HTTPException, Query
from fastapi.params import Depends

from gateway.admin.access import PREFIX
from gateway.admin.contract import RELEASE_LINK, PinRequest, error_response
from gateway.admin.readmodel import endpoint_coverage
from gateway.compiler import TableRef
from gateway.cutover import Cutover


def build_router(
    cutover: Cutover, tables: TableRef, state: Callable[[], dict[str, Any]], admin: Depends
) -> APIRouter:
    router = APIRouter(tags=["cutover"])

    @router.get(f"{PREFIX}/api/cutover", dependencies=[admin])
    async def cutover_state() -> dict[str, Any]:
        """Scoreboard, every route's state and statistics, upstreams, last reload, history."""
        return state()

    @router.get(f"{PREFIX}/api/diffs", dependencies=[admin])
    async def diffs(
        route: str | None = Query(None, description="route id (default: all routes)"),
        limit: int = Query(50, ge=1, le=500),
    ) -> dict[str, Any]:
        store = cutover.diffs
        summary = {rid: entry.summary() for rid, entry in store.routes().items() if route in (None, rid)}
        return {"routes": summary, "diffs": [r.as_json() for r in store.recent(route, limit)]}

    @router.get(f"{PREFIX}/api/coverage", dependencies=[admin])
    async def coverage() -> dict[str, Any]:
        """Every legacy endpoint (the legacy app's url_map) and its state now; totals by count and traffic."""
        return endpoint_coverage(cutover, tables.table)

    @router.get(f"{PREFIX}/api/history", dependencies=[admin])
    async def history(limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
        return {"reloads": [entry.as_json() for entry in cutover.history.entries(limit)]}

    @router.get(f"{PREFIX}/api/upstreams", dependencies=[admin])
    async def upstreams() -> dict[str, Any]:
        return {"upstreams": cutover.upstream_state()}

    @router.post(
        f"{PREFIX}/api/routes/{{route_id}}/pin",
        dependencies=[admin],
        operation_id="pin_route",
        responses={
            200: {"description": "The route is pinned to legacy", "links": {"Release": RELEASE_LINK}},
            404: error_response("No such route in the active table."),
            409: error_response("The route cannot be pinned (it has no rollout)."),
        },
    )
    async def pin(route_id: str, body: PinRequest | None = Body(None)) -> dict[str, Any]:
        reason = (body.reason if body is not None else None) or "pinned by an operator"
        try:
            found_route = await cutover.pin(route_id, reason)
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from exc
        if not found_route:
            raise HTTPException(404, f"no route {route_id!r} in the active table")
        found = cutover.pins.get(route_id)
        return {"route": route_id, "pinned": found.as_json() if found else None}

    @router.post(
        f"{PREFIX}/api/routes/{{route_id}}/release", dependencies=[admin], operation_id="release_route"
    )
    async def release(route_id: str) -> dict[str, Any]:
        released = await cutover.release(route_id)
        return {"route": route_id, "released": released}

    return router
