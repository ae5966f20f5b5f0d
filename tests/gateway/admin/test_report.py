"""The migration report over a real gateway: states, legacy traffic, and which Flask code can go."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from gateway.legacy_traffic import FILE_NAME
from tests.gateway.cutover_support import ADMIN, Clock, gateway_server, sides, table, utc

ROUTES = """\
  - id: items-shadow
    path: /api/items
    methods: [GET]
    target: services
    rollout:
      - {from: 2026-W49, mode: shadow}
  - id: items-live
    path: /api/items
    methods: [POST]
    target: services
    rollout:
      - {from: 2026-W49, mode: live}
  - id: settings
    path: /api/settings
    to: services
  - id: old
    path: /api/old
    to: legacy
"""
DAY = 86400.0


def test_report_rows_traffic_and_deletable_endpoints(sqlite_url: str, tmp_path: Path) -> None:
    clock = Clock(utc(2026, 12, 9))
    state = tmp_path / "state"
    state.mkdir()
    # counting started 30 days ago; legacy last answered `settings` 2 days ago (before a restart)
    (state / FILE_NAME).write_text(
        json.dumps({"since": clock.now - 30 * DAY, "routes": {"settings": clock.now - 2 * DAY}})
    )
    with (
        sides(sqlite_url) as (_, _, lsrv, tsrv),
        gateway_server(tmp_path, table(lsrv.url, tsrv.url, ROUTES), clock, report_idle_days=7) as (gw, _),
        httpx.Client(base_url=gw.url) as client,
    ):
        for _ in range(4):
            client.get("/api/items")  # shadow: legacy answers
        client.post("/api/items", json={})  # live: the target answers
        client.get("/unrouted")  # the default upstream: legacy
        report = client.get("/_gateway/api/report", headers=ADMIN).json()
        strict = client.get("/_gateway/api/report", params={"idle_days": 1}, headers=ADMIN).json()
        board = client.get("/_gateway/api/report/board", headers=ADMIN)
        refused = client.get("/_gateway/api/report", params={"idle_days": 0}, headers=ADMIN)
    rows = {row["route"]: row for row in report["rows"]}
    assert report["endpoints"] == "disabled" and report["idle_days"] == 7
    assert {r: rows[r]["state"] for r in rows} == {
        "items-shadow": "shadow",
        "items-live": "live",
        "settings": "live",
        "old": "not migrated",
    }
    shadow = rows["items-shadow"]
    assert (shadow["legacy_5m"], shadow["legacy_1h"], shadow["legacy_since_start"]) == (4, 4, 4)
    assert shadow["legacy_share_5m"] == 1.0 and shadow["idle_days"] == 0.0 and not shadow["deletable"]
    live = rows["items-live"]
    assert live["legacy_5m"] == 0 and live["legacy_share_5m"] == 0.0
    assert live["last_legacy_at"] is None and live["idle_days"] == 30.0 and live["deletable"]
    assert rows["settings"]["idle_days"] == 2.0 and not rows["settings"]["deletable"]
    assert {r["route"] for r in strict["rows"] if r["deletable"]} == {"items-live", "settings"}
    assert report["deletable"] == 1 and report["count"]["live"] == 2
    assert report["legacy_share"]["5m"] == 5 / 6  # 4 shadowed + 1 unmatched of 6 requests
    assert board.status_code == 200
    assert '<tr data-report="route items-live" data-state="live" data-deletable="1">' in board.text
    assert "delete the Flask code" in board.text
    assert refused.status_code == 422
