"""Through the gateway, a migrated route answers what legacy's gunicorn refuses exactly as an
unmigrated one does (gateway.legacy_limits), at each limit's boundary.

Legacy runs under gunicorn (its production server, default limits), the services under uvicorn,
on one SQLite database. Two gateways in front: one sends everything to legacy, the other has
`GET /api/videos/search` live on the services. Sweeps across each limit (request line, header
line, header count, measured on what the gateway forwards) must get the same status and body
from both.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.app import create_app as create_services_app
from services.settings import Settings
from tests.contract.harness import prepare_database
from tests.gateway.proxy_support import gateway_server, table_yaml
from tests.support.databases import async_url
from tests.support.servers import free_port, subprocess_server, uvicorn_thread

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
LIVE = """
  - id: search
    path: /api/videos/search
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: live}
"""


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    tmp = tmp_path_factory.mktemp("limits")
    url = f"sqlite:///{tmp / 'figway.db'}"
    prepare_database(url)
    port = free_port()
    command = [GUNICORN, "--workers", "1", "--bind", f"127.0.0.1:{port}", "legacy_flask.wsgi:app"]
    with (
        subprocess_server(command, port=port, env={"DATABASE_URL": url}) as (legacy, _),
        uvicorn_thread(create_services_app(Settings(database_url=async_url(url)))) as services,
    ):
        upstreams = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{services.url}'}}"}
        (tmp / "old").mkdir()
        (tmp / "new").mkdir()
        with (
            gateway_server(tmp / "old", table_yaml(upstreams), route_headers=False) as (old, _),
            gateway_server(tmp / "new", table_yaml(upstreams, LIVE), route_headers=False) as (new, _),
            httpx.Client(base_url=old.url, timeout=30) as before,
            httpx.Client(base_url=new.url, timeout=30) as after,
        ):
            yield before, after


def _same(gateways: tuple[httpx.Client, httpx.Client], path: str, headers: dict[str, str]) -> int:
    before, after = (client.get(path, headers=headers) for client in gateways)
    assert (after.status_code, after.content) == (before.status_code, before.content), path[:80]
    assert after.headers.get("content-type") == before.headers.get("content-type")
    return before.status_code


def test_the_request_line_limit(gateways: tuple[httpx.Client, httpx.Client]) -> None:
    base = len("GET /api/videos/search?q= HTTP/1.1")
    statuses = {_same(gateways, "/api/videos/search?q=" + "a" * (n - base), {}) for n in range(4090, 4100)}
    assert statuses == {200, 414}


def test_the_header_line_limit(gateways: tuple[httpx.Client, httpx.Client]) -> None:
    statuses = {
        _same(gateways, "/api/videos/search?q=a", {"Cookie": "x=" + "a" * n}) for n in range(8170, 8185)
    }
    assert statuses == {200, 431}


def test_the_header_count_limit(gateways: tuple[httpx.Client, httpx.Client]) -> None:
    statuses = {
        _same(gateways, "/api/videos/search?q=a", {f"X-H{i}": "1" for i in range(n)}) for n in range(86, 98)
    }
    assert statuses == {200, 431}
