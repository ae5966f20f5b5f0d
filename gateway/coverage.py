"""The legacy app's endpoints against the routing table: how much of legacy has moved.

The endpoint list is read once, in the background, by a child interpreter that imports the legacy
app (``GATEWAY_LEGACY_APP``); until it is there the report says ``loading``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import Any

import structlog

from gateway.compiler import CompiledTable
from gateway.decide import is_rollout
from gateway.inventory import Coverage, Endpoint, InventoryError, Placement, Resolver, coverage, load_url_map
from gateway.paths import UnsafePath, split_path
from gateway.rollout import phase_at

log = structlog.get_logger("gateway.coverage")


def placement_resolver(table: CompiledTable, at: float, pinned: Collection[str]) -> Resolver:
    """Where ``table`` sends a request at ``at``: the coverage report's view of a legacy endpoint."""

    def resolve(method: str, path: str) -> Placement:
        try:
            _, parts = split_path(path.encode("latin-1"), path)
        except UnsafePath:
            return Placement(None, "legacy")
        route = table.match(method, parts)
        if route is None:
            return Placement(None, "legacy")
        if not is_rollout(route):
            return Placement(route.id, "legacy" if route.target == table.default else "live")
        phase, _ = phase_at(route.schedule, at)
        return Placement(route.id, phase.mode, phase.percent, route.id in pinned)

    return resolve


class LegacyCoverage:
    """The endpoint list (loaded once, lazily) and the report over it."""

    def __init__(self, legacy_app: str | None) -> None:
        self.legacy_app = legacy_app
        self._endpoints: list[Endpoint] | None = None
        self._error: str | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def endpoints(self) -> list[Endpoint]:
        """The legacy endpoints once loaded (empty until the first report asked for them)."""
        return self._endpoints or []

    def report(
        self, table: CompiledTable, at: float, pinned: Collection[str], traffic: Mapping[str, float]
    ) -> dict[str, Any]:
        if self.legacy_app is None:
            return {"state": "disabled"}
        if self._endpoints is None:
            if self._error is not None:
                return {"state": "error", "error": self._error}
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(self._load())
            return {"state": "loading"}
        result: Coverage = coverage(self._endpoints, placement_resolver(table, at, pinned), traffic)
        return {"state": "ready", **result.as_json()}

    async def _load(self) -> None:
        assert self.legacy_app is not None
        try:
            self._endpoints = await load_url_map(self.legacy_app)
        except (InventoryError, OSError, ValueError) as exc:
            self._error = str(exc)
            log.warning("coverage.unavailable", app=self.legacy_app, error=str(exc))

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
