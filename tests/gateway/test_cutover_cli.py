from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from gateway import cutover_cli

TABLE = """\
version: 1
timezone: Europe/Berlin
upstreams:
  legacy: {url: "http://127.0.0.1:5000"}
  services: {url: "http://127.0.0.1:8001"}
default: legacy
evidence: none  # the calendar itself (flips waiting for evidence: tests/gateway/gates)
routes:
  - id: settings-list
    path: /api/settings/
    methods: [GET]
    target: services
    rollout:
      - {from: 2026-W49, mode: shadow}
      - {from: 2026-W50, mode: live}
  - id: videos-list
    path: /api/videos/
    methods: [GET]
    target: services
    rollout:
      - {from: 2026-W50, mode: shadow}
      - {from: 2026-W51, mode: canary, percent: 25}
"""

ENDPOINTS = [
    {"rule": "/api/settings/", "methods": ["GET", "HEAD", "OPTIONS"], "endpoint": "settings.get_settings"},
    {"rule": "/api/videos/", "methods": ["GET", "POST"], "endpoint": "videos.list_videos"},
    {
        "rule": "/api/videos/<int:video_id>",
        "methods": ["GET"],
        "endpoint": "videos.get_video",
        "converters": {"video_id": "int"},
    },
]


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cutover_cli.add_commands(parser.add_subparsers(dest="command"), "routing.yaml")
    return parser.parse_args(argv)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    table = tmp_path / "routing.yaml"
    table.write_text(TABLE)
    endpoints = tmp_path / "endpoints.json"
    endpoints.write_text(json.dumps(ENDPOINTS))
    return table, endpoints


def test_plan_prints_the_calendar_week_by_week(files: tuple[Path, Path]) -> None:
    table, _ = files
    out = io.StringIO()
    assert cutover_cli.cmd_plan(_parse("plan", str(table)), str(table), out) == 0
    text = out.getvalue()
    assert "2026-W49\n  Mon 2026-11-30 00:00  settings-list: legacy -> shadow" in text
    assert "2026-W51\n  Mon 2026-12-14 00:00  videos-list: shadow -> canary 25%" in text
    out = io.StringIO()
    assert cutover_cli.cmd_plan(_parse("plan", "--json"), str(table), out) == 0
    data = json.loads(out.getvalue())
    assert [w["week"] for w in data["weeks"]] == ["2026-W49", "2026-W50", "2026-W51"]


def test_plan_and_explain_ask_the_serving_decider_which_routes_a_pin_holds(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    from gateway.cli import main

    table, _ = files
    state = tmp_path / "state"
    state.mkdir()
    pin = {
        "route_id": "settings-list",
        "reason": "diff spike",
        "at": 1.0,
        "fingerprint": "",
        "by": "operator",
    }
    # a pin taken before its route changed is released when the gateway loads the table: not held
    stale = {"route_id": "videos-list", "reason": "old", "at": 1.0, "fingerprint": "changed", "by": "guard"}
    (state / "pins.json").write_text(json.dumps({"pins": [pin, stale]}))
    out = io.StringIO()
    args = _parse("plan", str(table), "--state-dir", str(state))
    assert cutover_cli.cmd_plan(args, str(table), out) == 0
    assert "held on legacy until released: settings-list (pinned: diff spike)" in out.getvalue()
    out = io.StringIO()
    assert cutover_cli.cmd_plan(_parse("plan", "--json", "--state-dir", str(state)), str(table), out) == 0
    assert json.loads(out.getvalue())["held"] == {"settings-list": "diff spike"}
    explained = io.StringIO()
    argv = ["explain", "--config", str(table), "GET", "/api/settings/", "--at", "2027-W01"]
    assert main([*argv, "--state-dir", str(state), "--json"], out=explained) == 0
    result = json.loads(explained.getvalue())
    assert (result["mode"], result["upstream"], result["why"]) == ("live", "legacy", "pinned")
    assert result["inputs"]["pin"]["reason"] == "diff spike"
    free = io.StringIO()
    assert main([*argv, "--state-dir", str(tmp_path / "none"), "--json"], out=free) == 0
    assert json.loads(free.getvalue())["upstream"] == "services"


def test_plan_of_an_invalid_table_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\n")
    assert cutover_cli.cmd_plan(_parse("plan"), str(bad), io.StringIO()) == 1


def test_coverage_from_an_exported_list(files: tuple[Path, Path]) -> None:
    table, endpoints = files
    out = io.StringIO()
    args = _parse("coverage", "--endpoints", str(endpoints), "--at", "2026-12-15T12:00:00+01:00", "--json")
    assert cutover_cli.cmd_coverage(args, str(table), "unused:factory", None, out) == 0
    report = json.loads(out.getvalue())
    states = {(e["method"], e["rule"]): (e["state"], e["percent"]) for e in report["endpoints"]}
    assert states == {
        ("GET", "/api/settings/"): ("live", None),
        ("GET", "/api/videos/"): ("canary", 25.0),
        ("POST", "/api/videos/"): ("not migrated", None),
        ("GET", "/api/videos/<int:video_id>"): ("not migrated", None),
    }
    assert report["totals"]["count"]["live"] == 1


def test_coverage_with_a_missing_list_fails(files: tuple[Path, Path], tmp_path: Path) -> None:
    table, _ = files
    args = _parse("coverage", "--endpoints", str(tmp_path / "none.json"))
    assert cutover_cli.cmd_coverage(args, str(table), "x", None, io.StringIO()) == 1


def test_scaffold_prints_and_appends_valid_entries(files: tuple[Path, Path]) -> None:
    table, endpoints = files
    out = io.StringIO()
    args = _parse("scaffold", "videos.get_video", "--endpoints", str(endpoints), "--from", "2027-W02")
    assert cutover_cli.cmd_scaffold(args, str(table), "x", out) == 0
    assert "  - id: videos-get-video\n" in out.getvalue()
    assert "{from: 2027-W02, mode: shadow}" in out.getvalue()
    args = _parse("scaffold", "/api/videos/*", "--endpoints", str(endpoints), "--write")
    out = io.StringIO()
    assert cutover_cli.cmd_scaffold(args, str(table), "x", out) == 0
    assert "2 route(s) appended" in out.getvalue()
    text = table.read_text()
    assert text.startswith(TABLE) and "id: videos-get-video" in text
    # the appended table is valid and plan shows the new route
    plan = io.StringIO()
    assert cutover_cli.cmd_plan(_parse("plan"), str(table), plan) == 0
    assert "videos-get-video: legacy -> shadow" in plan.getvalue()


def test_scaffold_refuses_nothing_matched_and_unappendable_tables(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    table, endpoints = files
    assert (
        cutover_cli.cmd_scaffold(
            _parse("scaffold", "nope.*", "--endpoints", str(endpoints)), str(table), "x", io.StringIO()
        )
        == 1
    )
    other = tmp_path / "other.yaml"
    other.write_text("routes: []\nversion: 1\n")
    args = _parse("scaffold", "videos.*", "--endpoints", str(endpoints), "--write")
    assert cutover_cli.cmd_scaffold(args, str(other), "x", io.StringIO()) == 1
    flow = tmp_path / "flow.yaml"
    flow.write_text(TABLE.split("routes:")[0] + "routes: []\n")
    assert cutover_cli.cmd_scaffold(args, str(flow), "x", io.StringIO()) == 1
    # a clash with an existing route (same path and method) is caught before writing
    dup = tmp_path / "dup.yaml"
    dup.write_text(TABLE)
    args = _parse("scaffold", "settings.*", "--endpoints", str(endpoints), "--write", "--from", "2026-W49")
    before = dup.read_text()
    assert cutover_cli.cmd_scaffold(args, str(dup), "x", io.StringIO()) == 1
    assert dup.read_text() == before


def test_coverage_refuses_a_bad_instant_and_an_unreachable_gateway(files: tuple[Path, Path]) -> None:
    from tests.support.servers import free_port

    table, endpoints = files
    args = _parse("coverage", "--endpoints", str(endpoints), "--at", "someday")
    assert cutover_cli.cmd_coverage(args, str(table), "x", None, io.StringIO()) == 2
    down = f"http://127.0.0.1:{free_port()}"
    args = _parse("coverage", "--endpoints", str(endpoints), "--gateway", down)
    assert cutover_cli.cmd_coverage(args, str(table), "x", None, io.StringIO()) == 1
    out = io.StringIO()
    assert (
        cutover_cli.cmd_coverage(
            _parse("coverage", "--endpoints", str(endpoints)), str(table), "x", None, out
        )
        == 0
    )
    assert "legacy endpoints:" in out.getvalue()
    bad_table = table.parent / "bad.yaml"
    bad_table.write_text("version: 1\n")
    assert cutover_cli.cmd_coverage(args, str(bad_table), "x", None, io.StringIO()) == 1


def test_scaffold_refuses_a_file_that_is_not_a_table(files: tuple[Path, Path], tmp_path: Path) -> None:
    _, endpoints = files
    args = _parse("scaffold", "videos.*", "--endpoints", str(endpoints), "--write")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n")
    assert cutover_cli.cmd_scaffold(args, str(scalar), "x", io.StringIO()) == 1
    missing = _parse("scaffold", "videos.*", "--endpoints", str(tmp_path / "none.json"))
    assert cutover_cli.cmd_scaffold(missing, str(tmp_path / "new.yaml"), "x", io.StringIO()) == 1
    out = io.StringIO()
    fresh = _parse("scaffold", "videos.*", "--endpoints", str(endpoints))
    assert cutover_cli.cmd_scaffold(fresh, str(tmp_path / "new.yaml"), "x", out) == 0
    assert "mode: legacy" in out.getvalue() and "mode: shadow" in out.getvalue()
