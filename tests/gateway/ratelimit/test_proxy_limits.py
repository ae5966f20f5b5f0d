"""The proxy refuses over-limit requests with 429 before anything reaches an upstream."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server

ROUTES = """
  - id: search
    path: /api/search
    methods: [GET]
    target: services
    rollout:
      - {from: 2020-W01, mode: shadow}
    rate_limit: {limit: 3, window: 1h, key: address}
  - id: per-key
    path: /api/keyed
    to: legacy
    rate_limit: {limit: 1, window: 1h, key: api_key}
"""


def test_over_limit_requests_get_429_and_are_neither_forwarded_nor_mirrored(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, legacy_state), upstream_server("services") as (svc, svc_state):
        text = table_yaml({"legacy": f"{{url: '{legacy.url}'}}", "services": f"{{url: '{svc.url}'}}"}, ROUTES)
        with (
            gateway_server(tmp_path, text) as (server, _gateway),
            httpx.Client(base_url=server.url) as client,
        ):
            # A forged X-Forwarded-For from an untrusted peer does not buy a fresh budget.
            answers = [
                client.get("/api/search", headers={"x-forwarded-for": f"203.0.113.{n}"}) for n in range(5)
            ]
            assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
            refused = answers[3]
            assert refused.headers["ratelimit-policy"] == '"search";q=3;w=3600'
            assert refused.headers["ratelimit"].startswith('"search";r=0;t=')
            assert int(refused.headers["retry-after"]) > 1000
            assert refused.headers["x-request-id"] == refused.json()["error"]["request_id"]
            assert len(legacy_state.requests) == 3
            deadline = time.monotonic() + 10
            while len(svc_state.requests) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
            assert len(svc_state.requests) == 3  # the refused requests were not mirrored either
            # Keyed by API key: each key has its own budget; none at all spends the address's.
            keyed = [client.get("/api/keyed", headers={"x-api-key": key}).status_code for key in "aab"]
            assert keyed == [200, 429, 200]
            assert [client.post("/api/keyed").status_code for _ in range(2)] == [200, 429]
            metrics = client.get("/_gateway/metrics").text
            assert (
                'figway_ratelimit_decisions_total{outcome="refused",policy="search",route="search"} 2.0'
                in metrics
            )
            assert "figway_ratelimit_shared 0.0" in metrics
            assert (
                'figway_requests_total{mode="shadow",route="search",status="429",upstream="legacy"} 2.0'
                in metrics
            )
            explained = client.get(
                "/_gateway/api/explain", params={"method": "GET", "path": "/api/search"}
            ).json()
            assert explained["rate_limits"] == [
                {"name": "search", "limit": 3, "window_seconds": 3600.0, "burst": 3, "key": "address"}
            ]
            # the dashboard: the read model and the board say what each route's limit refused
            rows = {r["id"]: r for r in client.get("/_gateway/api/cutover").json()["routes"]}
            assert (rows["search"]["rate_limited"], rows["per-key"]["rate_limited"]) == (2, 2)
            board = client.get("/_gateway/api/cutover/board").text
            assert "rate limit 3/3600s per address: 2 refused" in board
            routes = {r["id"]: r for r in client.get("/_gateway/api/routes").json()["routes"]}
            assert routes["per-key"]["rate_limit"][0]["key"] == "api_key"
            assert routes["search"]["rate_limit"][0]["limit"] == 3


def test_routes_without_a_limit_are_never_refused(tmp_path: Path) -> None:
    with upstream_server("legacy") as (legacy, legacy_state):
        text = table_yaml(
            {"legacy": f"{{url: '{legacy.url}'}}"},
            ROUTES.split("  - id: per-key")[0].replace("target: services", "target: legacy"),
        )
        with (
            gateway_server(tmp_path, text) as (server, _gateway),
            httpx.Client(base_url=server.url) as client,
        ):
            assert {client.get("/other").status_code for _ in range(20)} == {200}
