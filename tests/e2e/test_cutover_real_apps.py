"""The cutover machinery in front of the real legacy app and the real services, on one database:
shadow diffs of migrated reads, a sticky canary, and a write that is stored exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.contract.harness import prepare_database, serve_pair
from tests.gateway.cutover_support import ADMIN, Clock, gateway_server, utc

ROUTES = """\
version: 1
timezone: UTC
upstreams:
  legacy: {{url: "{legacy}"}}
  services: {{url: "{services}"}}
default: legacy
routes:
  - id: videos-list
    path: /api/videos/
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {{from: 2026-W49, mode: shadow}}
    shadow: {{learn_noise: true}}
  - id: artists-read
    path: /api/artists/
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {{from: 2026-W49, mode: shadow}}
    shadow: {{ignore: [body.query_time]}}
  - id: videos-get
    path: /api/videos/{{video_id:int}}
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {{from: 2026-W49, mode: canary, percent: 50}}
  - id: videos-create
    path: /api/videos/
    methods: [POST]
    target: services
    fallback: legacy
    rollout:
      - {{from: 2026-W49, mode: live}}
"""


def _videos(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT COUNT(*) FROM videos")).scalar_one())
    finally:
        engine.dispose()


def test_shadow_canary_and_writes_against_the_real_apps(sqlite_url: str, tmp_path: Path) -> None:
    prepare_database(sqlite_url)
    clock = Clock(utc(2026, 12, 2))
    with serve_pair(sqlite_url, sqlite_url) as pair:
        legacy_url = str(pair.legacy.base_url).rstrip("/")
        services_url = str(pair.services.base_url).rstrip("/")
        text = ROUTES.format(legacy=legacy_url, services=services_url)
        with gateway_server(tmp_path, text, clock) as (gw, gateway), httpx.Client(base_url=gw.url) as client:
            cookie = {"mvidarr_session": pair.session_cookies["admin"]}
            reads = [
                "/api/videos/",
                "/api/videos/?limit=5&offset=10",
                "/api/videos/?status=WANTED",
                "/api/artists/",
                "/api/artists/?search=a",
            ]
            for path in reads:
                assert client.get(path, cookies=cookie).status_code == 200
            expected = len(reads)
            for _ in range(500):
                compared = sum(
                    gateway.cutover.diffs.route(r).compared for r in ("videos-list", "artists-read")
                )
                if compared == expected:
                    break
                time.sleep(0.01)
            diffs = client.get("/_gateway/api/diffs", headers=ADMIN).json()
            per_user = {
                user: {
                    client.get("/api/videos/1", cookies={"mvidarr_session": value}).headers[
                        "x-gateway-upstream"
                    ]
                    for _ in range(5)
                }
                for user, value in pair.session_cookies.items()
            }
            before = _videos(sqlite_url)
            created = client.post(
                "/api/videos/", cookies=cookie, json={"title": "Through the gateway", "artist_id": 1}
            )
            assert created.status_code == 201 and created.headers["x-gateway-upstream"] == "services"
            assert _videos(sqlite_url) == before + 1
    summary = diffs["routes"]
    assert summary["videos-list"]["compared"] + summary["artists-read"]["compared"] == expected
    # Parsed values agree; what a client could still tell apart (body bytes, headers it reads) is
    # reported under bytes.* and headers.* (the shadow diff sees what clients see, issue 14) and is
    # excused only by the registry of deliberate differences.
    parsed = [
        (record["route"], found["path"])
        for record in diffs["diffs"]
        for found in record["differences"]
        if not found["path"].startswith(("bytes.", "headers."))
    ]
    assert parsed == [], parsed
    assert all(len(sides) == 1 for sides in per_user.values()), per_user  # sticky per logged-in user
