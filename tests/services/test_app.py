"""The application shell: health check, OpenAPI document, error shapes, login guard."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import APIRouter

from services.app import ROUTERS, create_app, mount_routers
from services.errors import Conflict, NotFound, ServiceError
from services.settings import Settings
from tests.services._resource_support import seeded_sqlite, services_client
from tests.support.servers import uvicorn_thread


def test_healthz_reports_a_reachable_database(services_client: httpx.Client) -> None:
    response = services_client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


def test_healthz_reports_an_unreachable_database(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/missing/dir/x.db"))
    with uvicorn_thread(app) as server:
        response = httpx.get(f"{server.url}/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "unhealthy", "database": "down"})


def test_openapi_describes_every_migrated_endpoint(services_client: httpx.Client) -> None:
    doc = services_client.get("/openapi.json").json()
    paths = doc["paths"]
    expected = {
        ("/api/settings/", "get"),
        ("/api/settings/bulk", "put"),
        ("/api/settings/{key}", "delete"),
        ("/api/videos/", "post"),
        ("/api/videos/search", "get"),
        ("/api/videos/{video_id}/status", "put"),
        ("/api/artists/{artist_id}", "delete"),
        ("/api/playlists/{playlist_id}/videos/reorder", "post"),
        ("/api/playlists/{playlist_id}/videos/{entry_id}", "delete"),
        ("/healthz", "get"),
    }
    assert {(p, m) for p, m in expected if m in paths.get(p, {})} == expected
    search = paths["/api/videos/search"]["get"]
    assert {"q", "artist_name", "status", "year_from", "has_thumbnail", "sort_by"} <= {
        p["name"] for p in search["parameters"]
    }
    create = paths["/api/videos/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["properties"]["artist_id"]
    assert "201" in create["responses"] and "409" in create["responses"]
    assert "VideoList" in doc["components"]["schemas"]


def _app_with(router: APIRouter, tmp_path: Path) -> object:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/x.db"))
    mount_routers(app, [router])
    return app


def test_errors_of_new_endpoints_are_structured_with_the_request_id(tmp_path: Path) -> None:
    router = APIRouter()

    @router.get("/new/missing")
    async def missing() -> None:
        raise NotFound("no such thing")

    @router.get("/new/conflict")
    async def conflict() -> None:
        raise Conflict("already there", code="duplicate")

    @router.get("/new/teapot")
    async def teapot() -> None:
        raise ServiceError("short and stout", status_code=418)

    @router.get("/new/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    @router.get("/api/boom")
    async def legacy_boom() -> None:
        raise RuntimeError("secret internals")

    @router.get("/new/typed")
    async def typed(n: int) -> dict[str, int]:
        return {"n": n}

    with uvicorn_thread(_app_with(router, tmp_path)) as server, httpx.Client(base_url=server.url) as client:
        missing_r = client.get("/new/missing", headers={"X-Request-ID": "abc-123"})
        assert missing_r.status_code == 404
        assert missing_r.json() == {
            "error": {"code": "not_found", "message": "no such thing", "request_id": "abc-123"}
        }
        assert missing_r.headers["x-request-id"] == "abc-123"
        assert client.get("/new/conflict").json()["error"]["code"] == "duplicate"
        assert client.get("/new/teapot").status_code == 418
        boom_r = client.get("/new/boom")
        assert boom_r.status_code == 500 and "secret" not in boom_r.text
        assert boom_r.json()["error"]["code"] == "internal_error" and boom_r.json()["error"]["request_id"]
        legacy_r = client.get("/api/boom")
        assert (legacy_r.status_code, legacy_r.json()) == (500, {"error": "Internal server error"})
        typed_r = client.get("/new/typed?n=x")
        assert typed_r.status_code == 422 and typed_r.json()["error"]["code"] == "validation_error"
        assert client.get("/nowhere").json()["error"]["code"] == "not_found"
        assert client.post("/healthz").json()["error"]["code"] == "method_not_allowed"
        assert client.post("/healthz").headers["allow"] == "GET"


def test_routers_are_mounted_from_one_list() -> None:
    prefixes = {getattr(router, "prefix", "") for router in ROUTERS}
    assert {"/api/settings", "/api/videos", "/api/artists", "/api/playlists"} <= prefixes


__all__ = ["seeded_sqlite", "services_client"]
