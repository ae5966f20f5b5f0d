"""services/openapi.py: the document states every status, body and header the services answer
(issue 20: a client generated from it, or schemathesis' conformance checks, must not be surprised).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from services.app import create_app
from services.settings import Settings
from tests.contract.harness import prepare_database
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread

METHODS = {"get", "put", "post", "delete", "patch", "options", "head"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return dict(create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    ]


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert refs and "$defs" not in json.dumps(document)
    for ref in refs:
        assert _resolve(document, ref) is not None


def test_authenticated_operations_document_401(document: dict[str, Any]) -> None:
    missing = [
        f"{method.upper()} {path}"
        for method, path, op in _operations(document)
        if path.startswith(("/auth/", "/admin/system/"))
        and path != "/auth/check"
        and "401" not in op["responses"]
    ]
    assert missing == []
    for path in ("/admin/system/status/service", "/auth/api-keys"):
        assert "403" in document["paths"][path]["get"]["responses"]


def test_handler_read_bodies_and_statuses_are_documented(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path in ("/auth/login", "/auth/token", "/api/metadata-enrichment/enrich"):
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body["required"], path
        assert "400" in paths[path]["post"]["responses"], path
    assert "application/x-www-form-urlencoded" in paths["/auth/login"]["post"]["requestBody"]["content"]
    assert {"404", "409"} <= set(paths["/auth/users/{user_id}/role"]["put"]["responses"])
    bulk = paths["/api/metadata-enrichment/enrich"]["post"]["responses"]["200"]["content"]
    assert list(bulk) == ["application/x-ndjson"]


def test_legacy_routes_document_legacy_400_not_fastapi_422(document: dict[str, Any]) -> None:
    for method, path, op in _operations(document):
        if path.startswith("/api/"):
            assert "422" not in op["responses"], f"{method} {path}"
    assert "422" in document["paths"]["/auth/api-keys"]["post"]["responses"]


def test_api_key_timestamps_are_documented_as_date_time(document: dict[str, Any]) -> None:
    schema = json.dumps(document["components"]["schemas"]["ApiKeyRead"]["properties"]["created_at"])
    assert '"date-time"' in schema


def test_405_answers_carry_allow_with_every_method_of_the_path(sqlite_url: str) -> None:
    prepare_database(sqlite_url)
    app = create_app(Settings(database_url=async_url(sqlite_url)))
    with uvicorn_thread(app) as server, httpx.Client(base_url=server.url) as client:
        # One route per method: starlette's own Allow named only the first route's (POST).
        options = client.options("/auth/api-keys")
        assert options.status_code == 200
        assert {"GET", "POST"} <= {m.strip() for m in options.headers["allow"].split(",")}
        refused = client.request("TRACE", "/auth/api-keys")
        assert refused.status_code == 405
        assert {"GET", "POST"} <= {m.strip() for m in refused.headers["allow"].split(",")}
        legacy = client.request("TRACE", "/api/artists/")
        assert legacy.status_code == 405 and legacy.json() == {"error": "Method Not Allowed"}
        assert {"GET", "POST"} <= {m.strip() for m in legacy.headers["allow"].split(",")}
        assert client.post("/healthz").headers["allow"] == "GET"
