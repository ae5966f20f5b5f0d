"""The cutover endpoints of the admin API (JSON): state, diffs, coverage, history, upstreams, pins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, HTTPException, Query
from fastapi.params import Depends
from pydantic import BaseModel, ConfigDict, Field

from gateway.admin.access import PREFIX
from gateway.admin.contract import RELEASE_LINK, PinRequest, error_response
from gateway.admin.readmodel import endpoint_coverage, gates_view
from gateway.compiler import TableRef
from gateway.cutover import Cutover


class HoldRelease(BaseModel):
    """Who releases a held flip and why (both kept in the history and the shared store)."""

    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    reason: str = Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f]+$")


def build_router(
    cutover: Cutover, tables: TableRef, state: Callable[[], dict[str, Any]], admin: Depends
) -> APIRouter:
    router = APIRouter(tags=["cutover"])

    @router.get(f"{PREFIX}/api/cutover", dependencies=[admin])
    async def cutover_state() -> dict[str, Any]:
        """Scoreboard, every route's state and statistics, upstreams, last reload, history.

        Per route, ``windows`` holds the last 5 minutes (``5m``) and the last hour (``1h``): the
        route's requests and ``route_share`` of all routed requests, and per side (``legacy``,
        ``target``; null before its first request) ``requests``, ``errors``, ``error_rate``,
        ``p99_ms`` (from a fixed histogram, interpolated), ``rate`` (requests/s) and ``share`` of the
        route's requests. ``chart`` holds the last hour per minute: ``start`` (epoch seconds),
        ``step`` (60) and per side ``requests`` and ``errors`` lists, oldest first."""
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

    @router.get(f"{PREFIX}/api/gates", dependencies=[admin])
    async def gates() -> dict[str, Any]:
        """Every gated route: its gates, evidence, openings (who, why) and the hold now, if any."""
        return gates_view(cutover, tables.table)

    @router.post(
        f"{PREFIX}/api/routes/{{route_id}}/hold/release",
        dependencies=[admin],
        responses={
            404: error_response("No such route in the active table."),
            409: error_response("The route is not held: nothing to release."),
        },
    )
    async def release_hold(route_id: str, body: HoldRelease) -> dict[str, Any]:
        """Let a held route enter its calendar phase now, without its evidence (recorded)."""
        if cutover.route(route_id) is None:
            raise HTTPException(404, f"no route {route_id!r} in the active table")
        opened = await cutover.release_hold(route_id, by=body.by, reason=body.reason)
        if not opened:
            raise HTTPException(409, f"route {route_id!r} is not held: nothing to release")
        return {"route": route_id, "released": [o.as_json() for o in opened]}

    return router
