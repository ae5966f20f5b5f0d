from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.breaker import Breakers, State
from gateway.health import HealthChecker
from tests.support.servers import free_port, uvicorn_thread


def _app(state: dict[str, int]) -> Starlette:
    async def health(request: Request) -> JSONResponse:
        state["seen"] += 1
        assert request.headers["x-figway-health"] == "1"
        return JSONResponse({"ok": state["status"] == 200}, status_code=state["status"])

    return Starlette(routes=[Route("/healthz", health)])


async def test_health_checks_drive_the_breaker() -> None:
    state = {"status": 200, "seen": 0}
    breakers = Breakers()
    with uvicorn_thread(_app(state)) as server:
        checker = HealthChecker({"services": f"{server.url}/healthz"}, breakers, interval=60)
        try:
            assert await checker.check("services")
            assert breakers.get("services").state is State.CLOSED
            state["status"] = 503
            assert not await checker.check("services")
            assert breakers.get("services").state is State.OPEN
            snap = checker.snapshot()["services"]
            assert snap["healthy"] is False and snap["status"] == 503 and snap["error"] == "status 503"
            state["status"] = 200
            await checker.check_all()
            assert breakers.get("services").state is State.CLOSED
            assert checker.snapshot()["services"]["consecutive_failures"] == 0
        finally:
            await checker.aclose()
    assert state["seen"] == 3


async def test_unreachable_upstream_is_unhealthy_and_background_task_stops() -> None:
    breakers = Breakers()
    checker = HealthChecker({"services": f"http://127.0.0.1:{free_port()}/healthz"}, breakers, interval=0.01)
    checker.start()
    try:
        assert not await checker.check("services")
        assert checker.states["services"].error is not None
        assert breakers.get("services").state is State.OPEN
    finally:
        await checker.aclose()
    assert checker.states["services"].checks >= 1
