"""The alerting rules in deploy/prometheus: valid for Prometheus, firing when they should, and naming
only metrics the gateway exports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("FIGWAY_REQUIRE_PROMTOOL") == "1":
            pytest.fail("promtool is required (FIGWAY_REQUIRE_PROMTOOL=1): apt-get install prometheus")
        pytest.skip("promtool not installed (apt-get install prometheus); CI installs it")
    return found


def test_the_rules_file_is_valid_for_prometheus() -> None:
    done = subprocess.run(
        [_promtool(), "check", "rules", str(RULES / "rules.yml")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "13 rules found" in done.stdout


def test_a_flip_held_for_an_hour_alerts_and_a_shorter_hold_does_not() -> None:
    command = [_promtool(), "test", "rules", "rules_test.yml"]
    done = subprocess.run(command, cwd=RULES, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_metric_the_rules_read_is_one_the_gateway_exports() -> None:
    names = set(re.findall(r"\b(figway_[a-z_]+)", (RULES / "rules.yml").read_text()))
    source = "".join(path.read_text() for path in (ROOT / "gateway").rglob("*.py"))
    for name in names:
        base = name
        for suffix in ("_total", "_bucket", "_count", "_sum"):
            base = base.removesuffix(suffix)
        assert f'"{base}"' in source, name


def test_every_metric_the_rules_read_is_scraped_from_a_running_gateway(tmp_path: Path) -> None:
    from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server

    names = set(re.findall(r"\b(figway_[a-z_]+)", (RULES / "rules.yml").read_text()))
    with upstream_server() as (up, _):  # noqa: SIM117
        with gateway_server(tmp_path, table_yaml({"legacy": f"{{url: '{up.url}'}}"})) as (gateway, _):
            assert httpx.get(f"{gateway.url}/anything").status_code == 200
            scraped = httpx.get(f"{gateway.url}/_gateway/metrics").text
    families = set(re.findall(r"^# TYPE (\S+) ", scraped, flags=re.MULTILINE))
    missing = set()
    for name in names:
        family = name
        for suffix in ("_total", "_bucket", "_count", "_sum"):
            family = family.removesuffix(suffix)
        if family not in families and name not in families:
            missing.add(name)
    assert not missing, f"rules read metrics the gateway does not export: {sorted(missing)}"
