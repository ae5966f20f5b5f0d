"""Active health checks: GET each upstream's ``health`` path on an interval, in the background.

Results feed the upstream's circuit breaker, so a target that is down is skipped (its routes
go to legacy) before any client request has to fail on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from gateway.breaker import Breakers

log = structlog.get_logger("gateway.health")

DEFAULT_INTERVAL = 5.0
DEFAULT_TIMEOUT = 2.0


@dataclass
class HealthState:
    url: str
    healthy: bool | None = None
    checked_at: float | None = None
    latency_ms: float | None = None
    status: int | None = None
    error: str | None = None
    consecutive_failures: int = 0
    checks: int = field(default=0)

    def snapshot(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "healthy": self.healthy,
            "checked_at": self.checked_at,
            "latency_ms": self.latency_ms,
            "status": self.status,
            "error": self.error,
            "consecutive_failures": self.consecutive_failures,
        }


class HealthChecker:
    """Checks ``{name: health_url}`` every ``interval`` seconds until stopped."""

    def __init__(
        self,
        targets: Mapping[str, str],
        breakers: Breakers,
        *,
        interval: float = DEFAULT_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.states = {name: HealthState(url) for name, url in targets.items()}
        self._breakers = breakers
        self._interval = interval
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._task: asyncio.Task[None] | None = None

    async def check(self, name: str) -> bool:
        state = self.states[name]
        started = time.perf_counter()
        ok = False
        try:
            response = await self._client.get(state.url, headers={"X-Figway-Health": "1"})
        except httpx.HTTPError as exc:
            state.status, state.error = None, f"{type(exc).__name__}: {exc}".rstrip(": ")
        else:
            state.status, state.error = response.status_code, None
            ok = 200 <= response.status_code < 300
            if not ok:
                state.error = f"status {response.status_code}"
        state.latency_ms = (time.perf_counter() - started) * 1000
        state.checked_at = time.time()
        state.checks += 1
        if ok != state.healthy:
            log.info("health.changed", upstream=name, healthy=ok, error=state.error)
        state.healthy = ok
        state.consecutive_failures = 0 if ok else state.consecutive_failures + 1
        self._breakers.get(name).record_health(ok, state.error or "")
        return ok

    async def check_all(self) -> None:
        await asyncio.gather(*(self.check(name) for name in self.states))

    async def _loop(self) -> None:
        while True:
            await self.check_all()
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        if self._task is None and self.states:
            self._task = asyncio.create_task(self._loop(), name="health-checks")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._owns_client:
            await self._client.aclose()

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {name: state.snapshot() for name, state in self.states.items()}
