"""The admission limit keeps at most N resource requests inside the app; others skip the queue."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter

from services._admission import AdmissionLimit
from services.app import create_app, mount_routers
from services.settings import Settings
from tests.support.servers import uvicorn_thread


def test_no_more_than_max_in_flight_requests_run_at_once(tmp_path: Path) -> None:
    inside = {"now": 0, "peak": 0}
    release = asyncio.Event()
    router = APIRouter()

    @router.get("/api/videos/slow")
    async def slow() -> dict[str, int]:
        inside["now"] += 1
        inside["peak"] = max(inside["peak"], inside["now"])
        if inside["peak"] >= 2:
            release.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), timeout=0.5)
        inside["now"] -= 1
        return {"peak": inside["peak"]}

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/a.db", max_in_flight=2))
    mount_routers(app, [router])

    async def burst(url: str) -> list[int]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            answers = await asyncio.gather(*(client.get("/api/videos/slow") for _ in range(6)))
            health = await client.get("/healthz")
            assert health.status_code == 200
            return [a.status_code for a in answers]

    with uvicorn_thread(app) as server:
        statuses = asyncio.run(burst(server.url))
    assert statuses == [200] * 6
    assert inside["peak"] == 2


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AdmissionLimit(lambda *_: None, max_in_flight=0)  # type: ignore[arg-type]
