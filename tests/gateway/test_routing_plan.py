"""The project's own routing.yaml: the migration plan validates, plans and covers the legacy app."""

from __future__ import annotations

import io
import json
from pathlib import Path

from gateway.cli import main

ROUTING = Path(__file__).resolve().parents[2] / "routing.yaml"


def test_check_plan_and_coverage_run_clean_on_the_real_table() -> None:
    out = io.StringIO()
    assert main(["check", str(ROUTING)], out) == 0
    assert "OK" in out.getvalue()

    out = io.StringIO()
    assert main(["plan", str(ROUTING), "--json"], out) == 0
    weeks = json.loads(out.getvalue())["weeks"]
    assert weeks[0]["week"] == "2026-W49"
    assert {(f["route"], f["to"]) for f in weeks[0]["flips"]} == {
        ("settings-read", "live"),
        ("settings-list", "live"),
        ("settings-write", "live"),
        ("settings-bulk", "live"),
    }
    order = [f["route"].split("-")[0] for w in weeks for f in w["flips"]]
    first = {
        area: order.index(area) for area in ("settings", "videos", "artists", "playlists", "auth", "health")
    }
    assert first["settings"] < first["videos"] < first["artists"] < first["playlists"] < first["auth"]
    assert first["auth"] < first["health"]

    out = io.StringIO()
    assert main(["coverage", "--config", str(ROUTING), "--at", "2027-W10", "--json"], out) == 0
    report = json.loads(out.getvalue())
    not_live = [(e["method"], e["rule"]) for e in report["endpoints"] if e["state"] != "live"]
    assert not_live == [("GET", "/static/<path:filename>")]  # static files stay with the legacy app
    assert report["total_endpoints"] >= 40


def test_every_rolled_out_route_has_a_fallback_and_reads_go_through_shadow() -> None:
    import yaml

    table = yaml.safe_load(ROUTING.read_text())
    routes = [r for r in table["routes"] if "target" in r]
    assert routes and all(r.get("fallback") == "legacy" for r in routes)
    for route in routes:
        modes = [phase["mode"] for phase in route["rollout"]]
        assert modes[-1] == "live"
        if set(route["methods"]) <= {"GET", "HEAD"} and route.get("group") != "settings":
            assert modes[0] == "shadow", route["id"]


def test_settings_reads_and_writes_cannot_be_split_between_sides(tmp_path: Path) -> None:
    text = ROUTING.read_text()
    needle = "  - id: settings-write\n"
    head, tail = text.split(needle)
    tail = tail.replace("      - {from: 2026-W49, mode: live}", "      - {from: 2026-W51, mode: live}", 1)
    broken = tmp_path / "routing.yaml"
    broken.write_text(head + needle + tail)
    out = io.StringIO()
    assert main(["check", str(broken)], out) == 1
    assert "group 'settings' must flip together" in out.getvalue()
    assert "settings-write on legacy" in out.getvalue()
