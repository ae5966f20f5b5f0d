"""Enrichment and health through the gateway give the legacy result (issues 6 and 8).

Legacy alone serves one seeded database; on an identical twin, the gateway sends the migrated
routes (artist enrichment, video refresh, `/api/health/*`) to services and everything else to
legacy. Both setups talk to the same fake provider server. Answers must match (timings aside:
see tests/contract/test_enrichment.py) and the rows written must be the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from legacy_flask.app import create_app as create_legacy_app
from services.app import create_app as create_services_app
from services.settings import Settings
from tests.contract.conftest import twin_url
from tests.contract.harness import prepare_database
from tests.contract.test_enrichment import ARTIST_COLUMNS, FAST, VIDEO_COLUMNS, _row, _strip_timings
from tests.fakes.support import RunningFake, provider_config, running_fake
from tests.gateway.proxy_support import gateway_server, table_yaml
from tests.support.databases import async_url
from tests.support.servers import uvicorn_thread, wsgi_thread

__all__ = ["twin_url"]  # a fixture used by name: a fresh second database on the same backend

ROUTES = """
  - id: enrich-artist
    path: /api/metadata-enrichment/enrich/{id:int}
    methods: [POST]
    to: services
  - id: video-refresh
    path: /api/videos/{id:int}/refresh-metadata
    methods: [POST]
    to: services
  - id: health
    path: /api/health/{rest:path}
    methods: [GET]
    to: services
"""


@pytest.fixture
def fake() -> Iterator[RunningFake]:
    with running_fake(musicbrainz_min_interval=0.0) as running:
        yield running


def test_migrated_enrichment_and_health_answer_through_the_gateway_as_legacy(
    database_url: str, twin_url: str, fake: RunningFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {**provider_config(fake.url), **FAST}.items():
        monkeypatch.setenv(key, str(value))
    prepare_database(database_url)
    prepare_database(twin_url)
    direct_app = create_legacy_app({"DATABASE_URL": database_url, "TESTING": True})
    behind_app = create_legacy_app({"DATABASE_URL": twin_url, "TESTING": True})
    services = create_services_app(Settings(database_url=async_url(twin_url)))
    with (
        wsgi_thread(direct_app) as direct,
        wsgi_thread(behind_app) as legacy,
        uvicorn_thread(services) as migrated,
    ):
        upstreams = {"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{migrated.url}'}}"}
        with gateway_server(tmp_path, table_yaml(upstreams, ROUTES)) as (gateway, _):
            for method, path in (
                ("POST", "/api/metadata-enrichment/enrich/3?force=true"),
                ("POST", "/api/metadata-enrichment/enrich/3"),
                ("POST", "/api/metadata-enrichment/enrich/99999"),
                ("POST", "/api/videos/2/refresh-metadata"),
                ("POST", "/api/videos/99999/refresh-metadata"),
                ("GET", "/api/health/database"),
                ("GET", "/api/health/version"),
                ("GET", "/api/health/imvdb"),
            ):
                old = httpx.request(method, f"{direct.url}{path}", timeout=30)
                new = httpx.request(method, f"{gateway.url}{path}", timeout=30)
                assert (old.status_code, old.headers["content-type"]) == (
                    new.status_code,
                    new.headers["content-type"],
                ), path
                assert _strip_timings(old.json()) == _strip_timings(new.json()), path
    for engine_app in (direct_app, behind_app):
        engine_app.extensions["figway_engine"].dispose()
    assert _row(database_url, "artists", ARTIST_COLUMNS, 3) == _row(twin_url, "artists", ARTIST_COLUMNS, 3)
    assert _row(database_url, "videos", VIDEO_COLUMNS, 2) == _row(twin_url, "videos", VIDEO_COLUMNS, 2)
    calls = fake.stats()["calls"]
    assert calls["spotify"] > 0 and calls["imvdb"] > 0
