from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gateway.inventory import (
    Endpoint,
    InventoryError,
    Placement,
    coverage,
    endpoints_from_json,
    format_coverage,
    load_exported,
    load_url_map,
    scaffold,
    select,
    traffic_from_metrics,
)

ROOT = Path(__file__).resolve().parents[2]


async def test_url_map_is_read_from_the_legacy_app_in_a_subprocess() -> None:
    endpoints = await load_url_map(cwd=ROOT)
    pairs = {(e.method, e.rule) for e in endpoints}
    assert ("GET", "/api/videos/<int:video_id>") in pairs
    assert ("PUT", "/api/settings/<key>") in pairs
    assert all(e.method not in ("HEAD", "OPTIONS") for e in endpoints)
    video = next(e for e in endpoints if e.rule == "/api/videos/<int:video_id>")
    assert video.template == "/api/videos/{video_id:int}"
    assert video.sample_path == "/api/videos/1"


def test_the_gateway_never_imports_the_legacy_app() -> None:
    import subprocess

    code = "import sys, gateway.cli, gateway.cutover, gateway.inventory; print('legacy_flask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


async def test_broken_factory_is_a_clear_error() -> None:
    with pytest.raises(InventoryError, match="no_such_module"):
        await load_url_map("no_such_module:create_app", cwd=ROOT)


def test_exported_list_and_converters(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.json"
    path.write_text(
        json.dumps(
            [
                {"rule": "/static/<path:filename>", "methods": ["GET", "HEAD"], "endpoint": "static"},
                {"rule": "/api/settings/<key>", "methods": ["GET", "PUT"], "converters": {"key": "str"}},
            ]
        )
    )
    endpoints = load_exported(path)
    assert [(e.method, e.template, e.sample_path) for e in endpoints] == [
        ("GET", "/api/settings/{key}", "/api/settings/sample"),
        ("PUT", "/api/settings/{key}", "/api/settings/sample"),
        ("GET", "/static/{filename:path}", "/static/sample/path"),
    ]
    with pytest.raises(InventoryError):
        load_exported(tmp_path / "missing.json")
    with pytest.raises(InventoryError):
        endpoints_from_json({"rule": "/"})
    with pytest.raises(InventoryError):
        endpoints_from_json([{"rule": "/"}])


def _endpoints() -> list[Endpoint]:
    return endpoints_from_json(
        [
            {"rule": "/api/settings/", "methods": ["GET"], "endpoint": "settings.get_settings"},
            {"rule": "/api/videos/", "methods": ["GET", "POST"], "endpoint": "videos.list_videos"},
            {"rule": "/api/artists/", "methods": ["GET"], "endpoint": "artists.list"},
            {"rule": "/api/health", "methods": ["GET"], "endpoint": "health.health"},
        ]
    )


def _resolve(method: str, path: str) -> Placement:
    table = {
        ("GET", "/api/settings/"): Placement("settings", "live"),
        ("GET", "/api/videos/"): Placement("videos", "canary", 25),
        ("GET", "/api/artists/"): Placement("artists", "shadow", pinned=True),
    }
    return table.get((method, path), Placement(None, "legacy"))


def test_coverage_totals_by_count_and_traffic() -> None:
    traffic = {"settings": 30.0, "videos": 50.0, "artists": 10.0, "default": 10.0, "elsewhere": 99.0}
    report = coverage(_endpoints(), _resolve, traffic)
    states = {(r.endpoint.method, r.endpoint.rule): r.state for r in report.rows}
    assert states == {
        ("GET", "/api/settings/"): "live",
        ("GET", "/api/videos/"): "canary",
        ("POST", "/api/videos/"): "not migrated",
        ("GET", "/api/artists/"): "pinned back",
        ("GET", "/api/health"): "not migrated",
    }
    assert report.by_count == {"not migrated": 2, "shadow": 0, "canary": 1, "live": 1, "pinned back": 1}
    assert report.by_traffic == {
        "not migrated": 0.1,
        "shadow": 0.0,
        "canary": 0.5,
        "live": 0.3,
        "pinned back": 0.1,
    }
    assert report.migrated_share == 0.4
    text = format_coverage(report)
    assert "canary 25%" in text and "5 legacy endpoints: not migrated 2" in text and "by traffic:" in text
    assert report.as_json()["total_endpoints"] == 5


def test_traffic_is_read_from_prometheus_text() -> None:
    text = "\n".join(
        [
            "# HELP gateway_requests_total requests",
            'gateway_requests_total{route="videos",upstream="legacy",status="200"} 40.0',
            'gateway_requests_total{route="videos",upstream="services",status="200"} 10.0',
            'gateway_requests_total{route="default",upstream="legacy",status="404"} 5',
            'gateway_other_total{route="videos"} 99',
            'gateway_requests_total{upstream="legacy"} 7',
            'gateway_requests_total{route="bad"} NaNx',
        ]
    )
    assert traffic_from_metrics(text, "gateway_requests_total") == {"videos": 50.0, "default": 5.0}


def test_scaffold_starts_reads_in_shadow_and_writes_in_legacy() -> None:
    chosen = select(_endpoints(), ["videos.*", "/api/health"])
    assert [e.rule for e in chosen] == ["/api/health", "/api/videos/", "/api/videos/"]
    text = scaffold(chosen, target="services", start="2026-W50", taken={"health-health"})
    assert text == (
        "  - id: health-health-2\n"
        '    path: "/api/health"\n'
        "    methods: [GET]\n"
        "    target: services\n"
        "    rollout:\n"
        "      - {from: 2026-W50, mode: shadow}\n"
        "  - id: videos-list-videos\n"
        '    path: "/api/videos/"\n'
        "    methods: [GET, POST]\n"
        "    target: services\n"
        "    rollout:\n"
        "      - {from: 2026-W50, mode: legacy}\n"
    )
    assert scaffold([], target="services", start="2026-W50") == ""
