"""A real Prometheus (Debian's ``prometheus``) scrapes a running gateway and evaluates the rules file.

Prometheus cannot listen on port 0, so the test picks a free port. It evaluates every second; the
test keeps traffic flowing until the recorded p99 (FigwayP99High's input) exists, then asks the
HTTP API for it: the rules read what the gateway really exports, through a real scrape.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server
from tests.support.servers import free_port, subprocess_server

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules.yml"


def _prometheus() -> str:
    found = shutil.which("prometheus")
    if found is None:
        if os.environ.get("FIGWAY_REQUIRE_PROMTOOL") == "1":
            pytest.fail("prometheus is required (FIGWAY_REQUIRE_PROMTOOL=1): apt-get install prometheus")
        pytest.skip("prometheus not installed (apt-get install prometheus); CI installs it")
    return found


def test_prometheus_scrapes_the_gateway_and_evaluates_the_p99_rule(tmp_path: Path) -> None:
    binary = _prometheus()
    with upstream_server() as (up, _):  # noqa: SIM117
        with gateway_server(tmp_path, table_yaml({"legacy": f"{{url: '{up.url}'}}"})) as (gateway, _):
            config = tmp_path / "prometheus.yml"
            config.write_text(
                "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                f"rule_files: ['{RULES}']\n"
                "scrape_configs:\n"
                "  - job_name: figway-gateway\n"
                "    metrics_path: /_gateway/metrics\n"
                f"    static_configs: [{{targets: ['127.0.0.1:{gateway.port}']}}]\n"
            )
            port = free_port()
            args = [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ]
            with subprocess_server(args, port=port, startup_timeout=60):
                result: list[dict[str, object]] = []
                deadline = time.monotonic() + 60
                while not result and time.monotonic() < deadline:
                    assert httpx.get(f"{gateway.url}/videos").status_code == 200
                    answer = httpx.get(
                        f"http://127.0.0.1:{port}/api/v1/query",
                        params={"query": "figway:request_duration_seconds:p99_5m"},
                        timeout=10,
                    ).json()
                    assert answer["status"] == "success"
                    result = answer["data"]["result"]
                    time.sleep(0.5)
                targets = httpx.get(f"http://127.0.0.1:{port}/api/v1/targets", timeout=10).json()
    assert result, "Prometheus never evaluated the recorded p99"
    sample = result[0]
    metric = sample["metric"]
    assert metric["__name__"] == "figway:request_duration_seconds:p99_5m"  # type: ignore[index]
    assert metric["upstream"] == "legacy"  # type: ignore[index]
    # the FigwayP99High threshold: a local echo upstream is far below it
    assert 0 < float(sample["value"][1]) < 1  # type: ignore[index]
    assert [t["health"] for t in targets["data"]["activeTargets"]] == ["up"]
