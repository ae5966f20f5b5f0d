"""The migration dashboard in real headless Chromium: the scoreboard matches the admin API."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.browser.support import chromium, signed_in
from tests.gateway.cutover_support import ADMIN, TOKEN, Clock, gateway_server, sides, table, utc

pytestmark = pytest.mark.browser

# Test artifacts go to var/ (ignored by git) so a test run never dirties the checkout;
# bench/results/dashboard.png is a copy kept from a reviewed run.
SCREENSHOT = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "dashboard.png"

ROUTES = """\
  - id: settings-read
    path: /api/items
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {from: 2026-W49, mode: shadow}
      - {from: 2026-W50, mode: live}
    guard: {max_error_rate: 0.05, min_requests: 50, window: 60s}
  - id: items-write
    path: /api/items
    methods: [POST]
    target: services
    rollout:
      - {from: 2026-W49, mode: canary, percent: 50}
      - {from: 2026-W51, mode: live}
  - id: videos
    path: /api/videos/{id:int}
    target: services
    methods: [GET]
    rollout:
      - {from: 2026-W49, mode: shadow}
      - {from: 2027-W02, mode: live}
    shadow: {ignore: [body.generated]}
  - id: artists
    path: /api/artists/
    target: services
    methods: [GET]
    rollout:
      - {from: 2027-W01, mode: shadow}
  - id: playlists
    path: /api/playlists/
    target: services
    methods: [GET]
    rollout:
      - {from: 2026-W49, mode: live}
"""


def test_dashboard_scoreboard_matches_the_admin_api(sqlite_url: str, tmp_path: Path) -> None:
    executable = chromium()
    clock = Clock(utc(2026, 12, 9))
    with (
        sides(sqlite_url) as (legacy, target, lsrv, tsrv),
        gateway_server(
            tmp_path, table(lsrv.url, tsrv.url, ROUTES), clock, legacy_app="legacy_flask.app:create_app"
        ) as (gw, gateway),
    ):
        with httpx.Client() as client:
            for i in range(30):
                client.get(f"{gw.url}/api/items")
                client.post(f"{gw.url}/api/items", json={"n": i}, headers={"X-API-Key": f"k{i}"})
            for _ in range(5):
                client.get(f"{gw.url}/api/videos/1")  # shadowed: both sides answer 404 alike
            client.post(
                f"{gw.url}/_gateway/api/routes/playlists/pin", headers=ADMIN, json={"reason": "diff spike"}
            )
            for _ in range(200):
                if gateway.cutover.diffs.route("videos").compared == 5:
                    break
                time.sleep(0.01)
            api = client.get(f"{gw.url}/_gateway/api/cutover", headers=ADMIN).json()
        board = api["scoreboard"]
        with signed_in(executable, gw.url, TOKEN, 1366, 900) as page:
            shown = {s: int(page.text_content(f"[data-count='{s}']") or "-1") for s in board["count"]}
            assert shown == board["count"]
            assert shown == {"legacy": 1, "shadow": 1, "canary": 1, "live": 1, "pinned": 1}
            rows = page.query_selector_all("tr[data-route]")
            assert [r.get_attribute("data-route") for r in rows] == [r["id"] for r in api["routes"]]
            modes = {r.get_attribute("data-route"): r.get_attribute("data-mode") for r in rows}
            assert modes["playlists"] == "pinned" and modes["settings-read"] == "live"
            share = page.text_content("[data-share='settings-read']") or ""
            expected = next(r for r in api["routes"] if r["id"] == "settings-read")["traffic_share"]
            assert share.startswith(f"{expected * 100:.1f}%")
            assert "services" in (page.text_content("tr[data-upstream='services']") or "")
            # legacy endpoints (the real app's url_map, read in the background) against the table
            page.wait_for_selector("[data-endpoint-count='live']", timeout=60_000)
            with httpx.Client() as client:
                endpoints = client.get(f"{gw.url}/_gateway/api/coverage", headers=ADMIN).json()
            assert endpoints["state"] == "ready" and endpoints["total_endpoints"] >= 40
            for state, count in endpoints["totals"]["count"].items():
                assert page.text_content(f"[data-endpoint-count='{state}']") == str(count)
            assert endpoints["totals"]["count"]["live"] == 0  # /api/playlists/ is pinned back
            assert endpoints["totals"]["count"]["pinned back"] == 1
            # the token is kept for the session: a reload needs no prompt
            page.reload()
            page.wait_for_selector("body[data-ready='1']")
            assert not page.is_visible("#token")
            page.click("a[data-diffs='videos']")
            page.wait_for_selector("#diffs:has-text('recent diff(s) of videos')")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            # releasing from the dashboard calls the admin API
            page.click("button[data-release='playlists']")
            page.wait_for_selector("tr[data-route='playlists'][data-mode='live']")
        assert gateway.cutover.pins.get("playlists") is None
    assert SCREENSHOT.stat().st_size > 10_000
