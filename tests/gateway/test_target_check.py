"""check --upstreams: every path and method a route sends its target is one the target serves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.inventory import Endpoint
from gateway.loader import parse_table
from gateway.target_check import Operations, check_targets, sent_requests
from services.app import create_app as create_services_app
from services.settings import Settings
from tests.support.servers import ROOT, RunningServer, uvicorn_thread

DOCUMENT = {
    "openapi": "3.1.0",
    "paths": {
        "/api/videos/": {"get": {}},
        "/api/videos/{video_id}": {"get": {}, "put": {}},
        "/admin/system/{rest}": {"get": {}},
    },
}
TABLE = """
version: 1
upstreams:
  legacy: {url: "http://127.0.0.1:9"}
  services: {url: "http://127.0.0.1:9", openapi: /openapi.json}
default: legacy
routes:
  - id: videos
    path: /api/videos/{video_id:int}
    methods: [GET, PUT, DELETE]
    target: services
    rollout: [{from: 2027-W03, mode: live}]
  - id: list
    path: /api/videos/
    methods: [GET, POST]
    to: services
  - id: admin-write
    path: /admin/{rest:path}
    methods: [POST]
    target: services
    rollout: [{from: 2026-W01, mode: legacy}, {from: 2027-W07, mode: live}]
  - id: never
    path: /never
    methods: [POST]
    target: services
    rollout: [{from: 2026-W01, mode: legacy}]
"""
LEGACY = [
    Endpoint("/api/videos/<int:video_id>", "DELETE", "videos.delete", {"video_id": "int"}),
    Endpoint("/api/videos/<int:video_id>", "GET", "videos.get", {"video_id": "int"}),
    Endpoint("/admin/api/users/<int:user_id>/role", "POST", "admin.role", {"user_id": "int"}),
    Endpoint("/admin/system/restart", "GET", "admin.restart", {}),
]


def test_a_route_that_sends_its_target_what_the_document_lacks_is_reported_with_its_week() -> None:
    table = parse_table(TABLE, source="routing.yaml")
    issues = check_targets(table, {"services": Operations.from_document("services", DOCUMENT)}, LEGACY)
    found = sorted((issue.route, issue.message.split(" (")[0]) for issue in issues)
    assert found == [
        ("admin-write", "target 'services' serves no POST /admin/api/users/1/role"),
        ("list", "target 'services' serves no POST /api/videos/"),
        ("videos", "target 'services' serves no DELETE /api/videos/1"),
    ]
    admin = next(issue for issue in issues if issue.route == "admin-write")
    assert "legacy endpoint POST /admin/api/users/<int:user_id>/role" in admin.message
    assert "from 2027-W07" in admin.message and admin.line == 17
    # a target without a document, or a route that never sends to it, is not judged
    assert check_targets(table, {}, LEGACY) == []


def test_a_parameter_template_is_judged_by_the_legacy_endpoints_it_matches() -> None:
    table = parse_table(TABLE)
    route = next(route for route in table.routes if route.id == "videos")
    assert [(m, p) for m, p, _ in sent_requests(table, route, LEGACY)] == [
        ("DELETE", "/api/videos/1"),
        ("GET", "/api/videos/1"),
    ]
    assert Operations.from_document("s", {"paths": {"/a/{b}": {"get": {}, "parameters": []}}}).serves(
        "GET", "/a/x"
    )
    assert not Operations.from_document("s", {"paths": []}).serves("GET", "/")


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    database = tmp_path_factory.mktemp("target-check") / "figway.db"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}")
    with uvicorn_thread(create_services_app(settings)) as server:
        yield server


def _check(table: Path, services: RunningServer, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATEWAY_UPSTREAM_SERVICES_URL": services.url}
    return subprocess.run(
        [sys.executable, "-m", "gateway", "check", str(table), "--upstreams", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_reads_the_real_services_document_and_names_what_they_lack(
    services: RunningServer, tmp_path: Path
) -> None:
    table = tmp_path / "routing.yaml"
    table.write_text(TABLE.replace('"http://127.0.0.1:9", openapi', '"http://127.0.0.1:9", openapi'))
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text(
        json.dumps(
            [{"rule": "/admin/api/no-such-thing/<int:id>", "methods": ["POST"], "converters": {"id": "int"}}]
        )
    )
    result = _check(table, services, "--endpoints", str(endpoints))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[route admin-write]: target 'services' serves no POST /admin/api/no-such-thing/1" in result.stdout
    unreachable = _check(table, RunningServer("127.0.0.1", 9), "--endpoints", str(endpoints))
    assert (
        unreachable.returncode == 1 and "cannot read the OpenAPI document of 'services'" in unreachable.stdout
    )


def test_the_projects_routing_table_sends_the_services_only_what_they_serve(services: RunningServer) -> None:
    # The legacy endpoints come from the legacy app's url_map (a child process), as in CI.
    result = _check(ROOT / "routing.yaml", services)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_every_reload_warns_about_what_a_target_lacks(tmp_path: Path) -> None:
    import httpx
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from gateway.app import Gateway
    from gateway.settings import GatewaySettings

    async def document(request: object) -> JSONResponse:
        return JSONResponse({"openapi": "3.1.0", "paths": {"/api/videos/": {"get": {}}}})

    with uvicorn_thread(Starlette(routes=[Route("/openapi.json", document)])) as target:
        routing = tmp_path / "routing.yaml"
        routing.write_text(
            TABLE.replace('url: "http://127.0.0.1:9", openapi', f'url: "{target.url}", openapi')
        )
        settings = GatewaySettings(routing_file=routing, watch=False, state_dir=None, redis_url=None)
        gateway = Gateway(settings)
        warnings: list[dict[str, object]] = []

        class Recorder:
            def __getattr__(self, name: str) -> object:
                return lambda event, **fields: warnings.append({"level": name, "event": event, **fields})

        gateway.log = Recorder()
        with uvicorn_thread(gateway) as server:
            deadline = time.monotonic() + 20
            while not gateway.target_issues and time.monotonic() < deadline:
                time.sleep(0.05)
            assert gateway.target_issues == [
                f"{routing}:13 [route list]: target 'services' serves no POST /api/videos/ (route path "
                "/api/videos/), which this route sends it now: its OpenAPI document has no such operation"
            ]
            gateway.target_issues = []
            assert httpx.post(f"{server.url}/_gateway/api/reload", timeout=10).status_code == 200
            while not gateway.target_issues and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(gateway.target_issues) == 1
    missing = [w for w in warnings if w["event"] == "reload.target_missing"]
    assert len(missing) == 2 and missing[0]["route"] == "list" and missing[0]["level"] == "warning"
