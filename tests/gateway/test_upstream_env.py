from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.app import Gateway
from gateway.cli import main
from gateway.errors import ConfigError
from gateway.loader import parse_table
from gateway.settings import GatewaySettings
from gateway.upstream_env import env_name, url_overrides
from tests.gateway.test_loader import DESIGN_SKETCH
from tests.support.servers import uvicorn_thread


def test_env_name_upper_cases_and_replaces_punctuation() -> None:
    assert env_name("legacy") == "GATEWAY_UPSTREAM_LEGACY_URL"
    assert env_name("svc-v2.eu") == "GATEWAY_UPSTREAM_SVC_V2_EU_URL"


def test_only_non_empty_upstream_url_variables_are_overrides() -> None:
    environ = {
        "GATEWAY_UPSTREAM_LEGACY_URL": "http://legacy:5000",
        "GATEWAY_UPSTREAM_SERVICES_URL": "",
        "GATEWAY_UPSTREAM_CLIENT": "native",
        "GATEWAY_UPSTREAM__URL": "http://x",
        "PATH": "/bin",
    }
    assert url_overrides(environ) == {"GATEWAY_UPSTREAM_LEGACY_URL": "http://legacy:5000"}


def test_override_replaces_only_the_url() -> None:
    table = parse_table(DESIGN_SKETCH, environ={"GATEWAY_UPSTREAM_SERVICES_URL": "http://services:8001/"})
    services = table.upstreams["services"]
    assert (services.url, services.host, services.port) == ("http://services:8001", "services", 8001)
    assert services.health == "/healthz"
    assert services.timeouts.connect == 0.5
    assert table.upstreams["legacy"].url == "http://127.0.0.1:5000"


def test_no_environment_keeps_the_file_addresses() -> None:
    table = parse_table(DESIGN_SKETCH, environ={})
    assert table.upstreams["services"].url == "http://127.0.0.1:8001"


def test_override_naming_no_upstream_is_an_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_table(DESIGN_SKETCH, source="r.yaml", environ={"GATEWAY_UPSTREAM_LEGACI_URL": "http://x:1"})
    (issue,) = caught.value.issues
    assert issue.file == "r.yaml"
    assert "GATEWAY_UPSTREAM_LEGACI_URL names no upstream" in issue.message
    assert "GATEWAY_UPSTREAM_LEGACY_URL" in issue.message


def test_invalid_override_url_is_an_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_table(DESIGN_SKETCH, environ={"GATEWAY_UPSTREAM_LEGACY_URL": "legacy:5000/api"})
    (issue,) = caught.value.issues
    assert issue.message.startswith("GATEWAY_UPSTREAM_LEGACY_URL: upstream url must be http(s)://")


def test_explain_shows_the_overridden_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(DESIGN_SKETCH)
    monkeypatch.setenv("GATEWAY_UPSTREAM_SERVICES_URL", "http://services:8001")
    out = io.StringIO()
    assert main(["explain", "--config", str(path), "GET", "/api/settings/theme"], out=out) == 0
    assert "upstream services (http://services:8001)" in out.getvalue()


async def _whoami(request: Request) -> JSONResponse:
    return JSONResponse({"upstream": "overridden", "path": request.url.path})


def test_gateway_forwards_to_the_overridden_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(DESIGN_SKETCH)
    upstream = Starlette(routes=[Route("/api/settings/{key}", _whoami)])
    with uvicorn_thread(upstream) as server:
        monkeypatch.setenv("GATEWAY_UPSTREAM_SERVICES_URL", server.url)
        gateway = Gateway(GatewaySettings(routing_file=path, watch=False, access_log=False))
        with uvicorn_thread(gateway) as front:
            answer = httpx.get(f"{front.url}/api/settings/theme")
    assert answer.status_code == 200
    assert answer.json() == {"upstream": "overridden", "path": "/api/settings/theme"}
    assert answer.headers["x-gateway-upstream"] == "services"
