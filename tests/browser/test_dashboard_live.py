"""The dashboard for people, live: real gateway, legacy and services processes on one database,
traffic through a shadow and a canary route, then headless Chromium reads the charts, the diff viewer
and the migration report.

Screenshots go to ``var/artifacts`` (ignored by git); ``make dashboard-screenshots`` runs this test
with ``FIGWAY_SCREENSHOTS=bench/results`` and a longer stream of traffic to refresh the committed
``bench/results/dashboard-*.png``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from gateway.legacy_traffic import FILE_NAME
from tests.browser.support import chromium, signed_in
from tests.contract.harness import prepare_database
from tests.support.servers import free_port, python_module, subprocess_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "dashboard-live-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
DAY = 86400.0

ROUTES = """\
version: 1
timezone: UTC
upstreams:
  legacy: {{url: "http://127.0.0.1:{legacy}", timeout: {{connect: 2, read: 30}}}}
  services: {{url: "http://127.0.0.1:{services}", timeout: {{connect: 2, read: 30}}}}
default: legacy
evidence: none
routes:
  - id: videos-list
    path: /api/videos/
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {{from: 2026-W01, mode: shadow}}
    shadow: {{learn_noise: true}}
  - id: health-system
    path: /api/health/system
    methods: [GET]
    target: services
    rollout:
      - {{from: 2026-W01, mode: shadow}}
    shadow: {{learn_noise: true}}
  - id: health-version
    path: /api/health/version
    methods: [GET]
    target: services
    rollout:
      - {{from: 2026-W01, mode: shadow}}
  - id: videos-get
    path: /api/videos/{{video_id:int}}
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {{from: 2026-W01, mode: canary, percent: 50}}
  - id: artists-list
    path: /api/artists/
    methods: [GET]
    target: services
    fallback: legacy
    rollout:
      - {{from: 2026-W01, mode: live}}
"""


@contextmanager
def _stack(tmp_path: Path) -> Iterator[str]:
    """Services, legacy and the gateway as child processes; yields the gateway's URL."""
    database = f"sqlite:///{tmp_path}/dashboard.db"
    prepare_database(database)
    env = {"DATABASE_URL": database, "SERVICES_LOG_LEVEL": "warning"}
    ports = {"services": free_port(), "legacy": free_port(), "gateway": free_port()}
    # The new deployment carries its own version record: the shadow of /api/health/version tells.
    version = tmp_path / "version.json"
    version.write_text(json.dumps({"version": "1.0.0-services", "git_commit": "x", "git_branch": "y"}))
    state = tmp_path / "state"
    state.mkdir()
    # This gateway's state directory has counted legacy answers for 30 days: routes legacy has not
    # answered since are the report's deletable ones (the file is what a restart reads back).
    (state / FILE_NAME).write_text(json.dumps({"since": time.time() - 30 * DAY, "routes": {}}))
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTES.format(legacy=ports["legacy"], services=ports["services"]))
    gateway_env = {
        **env,
        "GATEWAY_ROUTING_FILE": str(routing),
        "GATEWAY_WATCH": "false",
        "GATEWAY_STATE_DIR": str(state),
        "GATEWAY_ADMIN_TOKEN": TOKEN,
        "GATEWAY_ACCESS_LOG": "false",
        "GATEWAY_DIFFERENCES_FILE": str(ROOT / "differences.yaml"),
    }
    with ExitStack() as stack:
        services = python_module("services", "serve", "--port", str(ports["services"]), "--no-access-log")
        services_env = {**env, "VERSION_FILE": str(version)}
        stack.enter_context(subprocess_server(services, port=ports["services"], env=services_env))
        legacy = python_module("legacy_flask", "serve", "--port", str(ports["legacy"]))
        stack.enter_context(subprocess_server(legacy, port=ports["legacy"], env=env))
        gateway = python_module("gateway", "serve", "--port", str(ports["gateway"]))
        stack.enter_context(subprocess_server(gateway, port=ports["gateway"], env=gateway_env))
        yield f"http://127.0.0.1:{ports['gateway']}"


def _drive(client: httpx.Client, seconds: float) -> None:
    """Reads through every route: shadowed lists, the canary by 40 identities, the live route, and
    legacy endpoints no route matches."""
    deadline = time.monotonic() + seconds
    rounds = 0
    while rounds < 3 or time.monotonic() < deadline:
        for i in range(40):
            cookie = {"Cookie": f"mvidarr_session=visitor-{i}"}  # one sticky canary bucket each
            client.get(f"/api/videos/{1 + i % 20}", headers=cookie)
        client.get("/api/videos/", params={"limit": 5, "offset": rounds % 3})
        client.get("/api/health/system")
        client.get("/api/artists/")
        client.get("/api/playlists/")
        client.get("/api/health/version")
        client.get("/api/health/status")
        rounds += 1
        if seconds:
            time.sleep(0.5)  # a steady stream for the charts, not a load test


def _wait_for_diffs(client: httpx.Client) -> dict[str, object]:
    for _ in range(300):
        found = client.get("/_gateway/api/diffs/view", headers=ADMIN).json()
        if any(view["differences"] for view in found["views"]):
            return dict(found)
        time.sleep(0.1)
    raise AssertionError(f"no shadow diff with a counted difference: {found}")


def test_dashboard_shows_charts_diffs_and_report_with_live_data(tmp_path: Path) -> None:
    executable = chromium()
    shots = Path(os.environ.get("FIGWAY_SCREENSHOTS") or ROOT / "var" / "artifacts")
    seconds = float(os.environ.get("FIGWAY_DASHBOARD_TRAFFIC_SECONDS", "0"))
    with _stack(tmp_path) as url, httpx.Client(base_url=url, timeout=30) as client:
        _drive(client, seconds)
        found = _wait_for_diffs(client)
        state = client.get("/_gateway/api/cutover", headers=ADMIN).json()
        canary = next(r for r in state["routes"] if r["id"] == "videos-get")["windows"]["5m"]["sides"]
        assert canary["legacy"]["requests"] > 0 and canary["target"]["requests"] > 0  # split by identity
        differing = next(view for view in found["views"] if view["differences"])
        route, path = differing["route"], differing["differences"][0]["path"]
        with signed_in(executable, url, TOKEN, 1400, 1000) as page:
            # charts: both sides of the canary drawn from the live series
            chart = page.locator("svg[data-chart='videos-get']")
            assert chart.locator("polyline.rate.legacy").count() == 1
            assert chart.locator("polyline.rate.target").count() == 1
            assert page.locator("svg[data-chart='videos-list'] polyline.errors").count() == 1
            share = page.locator("[data-card='videos-get'] tr[data-window-side='target'] td").first
            assert share.text_content() not in (None, "", "–")
            page.wait_for_selector("[data-endpoint-count='live']", timeout=60_000)  # url_map read
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / "dashboard-overview.png"), full_page=True)
            page.locator("[data-card='videos-get']").screenshot(path=str(shots / "dashboard-chart.png"))
            # the diff viewer: both answers, the differing path highlighted on both sides
            page.click(f"a[data-diffs='{route}']")
            page.wait_for_selector(f"body[data-diffs='{route}']")
            marked = page.locator(f"#diffs .jl.diff[data-path='{path}']")
            assert marked.count() >= 1 if path in ("status", "body") else marked.count() >= 2
            assert page.locator(f"#diffs li.diff[data-diff-path='{path}']").count() >= 1
            page.fill("#diff-filter", path)
            page.wait_for_selector(f"#diffs p.legend:has-text('{path}')")
            page.locator("#diffs").screenshot(path=str(shots / "dashboard-diffs.png"))
            # a route whose only differences are excused, with fields learnt as noise (timestamps)
            page.fill("#diff-filter", "")
            page.click("a[data-diffs='health-system']")
            page.wait_for_selector("body[data-diffs='health-system'] #diffs .jl.noise")
            assert page.locator("#diffs .jl.noise[data-path='body.timestamp']").count() >= 2
            assert page.locator("#diffs li.excused").count() >= 1
            assert page.locator("#diffs li.diff").count() == 0
            page.locator("#diffs article").first.screenshot(path=str(shots / "dashboard-diffs-noise.png"))
            # the migration report: every legacy endpoint, the live route's code deletable
            page.wait_for_selector("tr[data-report] >> nth=40", timeout=60_000)
            assert page.locator("tr[data-report][data-deletable='1']").count() >= 1
            row = page.locator("tr[data-report='GET /api/videos/<int:video_id>']")
            assert row.get_attribute("data-state") == "canary"
            assert int(row.locator("[data-legacy-5m]").get_attribute("data-legacy-5m") or "0") > 0
            page.locator("#report").screenshot(path=str(shots / "dashboard-report.png"))
        report = client.get("/_gateway/api/report", headers=ADMIN).json()
    assert report["endpoints"] == "ready"
    deletable = {row["route"] for row in report["rows"] if row["deletable"]}
    assert deletable == {"artists-list"}, deletable
    for name in ("overview", "chart", "diffs", "diffs-noise", "report"):
        assert (shots / f"dashboard-{name}.png").stat().st_size > 5_000
