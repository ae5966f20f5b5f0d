"""deploy/grafana: the dashboard reads only what the gateway exports or the rules record, and
docker-compose.yml provisions it with Prometheus (checked without Docker: these machines have none)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.deploy.test_compose import services
from tests.deploy.test_prometheus_rules import _promtool

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = GRAFANA / "dashboards" / "figway.json"
#: What the dashboard's variables and Grafana's macros stand for when promtool reads an expression.
SUBSTITUTIONS = {"$route": ".*", "$__rate_interval": "5m", "$__interval": "1m"}


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def _exprs() -> list[str]:
    exprs = [
        target["expr"]
        for panel in _dashboard()["panels"]
        for target in panel.get("targets", [])
        if panel["type"] != "row"
    ]
    assert len(exprs) >= 15
    return exprs


def _promql(expr: str) -> str:
    for name, value in SUBSTITUTIONS.items():
        expr = expr.replace(name, value)
    return expr


def _names(text: str) -> set[str]:
    """Metric and recording-rule names: figway_* and figway:*:* (not label names or values)."""
    return set(re.findall(r"\b(figway[_:][a-z0-9_:]*)(?=[\s{\[)]|$)", text))


def _recorded() -> set[str]:
    rules = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())
    return {rule["record"] for group in rules["groups"] for rule in group["rules"] if "record" in rule}


def test_the_dashboard_is_grafana_json_wired_to_the_provisioned_datasource() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] == "figway-cutover"
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert panel["targets"] and all(t["datasource"]["uid"] == uid for t in panel["targets"])
        position = panel["gridPos"]
        assert position["x"] + position["w"] <= 24, panel["title"]
    titles = " | ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for topic in (
        "traffic share",
        "error rate",
        "p99",
        "shadow diff",
        "fallback",
        "breaker",
        "held",
        "pinned",
        "rate-limit",
    ):
        assert topic in titles, topic


def test_every_expression_names_only_exported_metrics_or_recorded_rules(tmp_path: Path) -> None:
    from tests.gateway.proxy_support import gateway_server, table_yaml, upstream_server

    with upstream_server() as (up, _):  # noqa: SIM117
        with gateway_server(tmp_path, table_yaml({"legacy": f"{{url: '{up.url}'}}"}), state_dir=None) as (
            gw,
            _,
        ):
            assert httpx.get(f"{gw.url}/anything").status_code == 200
            scraped = httpx.get(f"{gw.url}/_gateway/metrics").text
    exported = set()
    for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", scraped, flags=re.MULTILINE):
        exported.add(family)
        if kind == "counter":
            exported.add(f"{family}_total")
        if kind == "histogram":
            exported.update(f"{family}_{suffix}" for suffix in ("bucket", "count", "sum"))
    known = exported | _recorded()
    templated = [_dashboard()["templating"]["list"][0]["definition"]]
    used = set().union(*(_names(expr) for expr in _exprs() + templated))
    assert "figway_cutover_side_requests_total" in used and "figway:side_error_ratio:rate5m" in used
    assert used <= known, f"the dashboard reads what nothing exports or records: {sorted(used - known)}"


def test_promtool_accepts_every_expression(tmp_path: Path) -> None:
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"figway_dashboard:panel{n}", "expr": _promql(e)}
                    for n, e in enumerate(_exprs())
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    done = subprocess.run(
        [_promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(_exprs())} rules found" in done.stdout


def test_promtool_accepts_the_compose_prometheus_config(tmp_path: Path) -> None:
    # The container paths, made real in a temp dir (promtool reads rule and credential files).
    config = (PROMETHEUS / "prometheus.yml").read_text()
    shutil.copy(PROMETHEUS / "rules.yml", tmp_path / "rules.yml")
    (tmp_path / "token").write_text("t" * 48)
    config = config.replace("/etc/prometheus/rules.yml", str(tmp_path / "rules.yml"))
    config = config.replace("/run/secrets/gateway_admin_token", str(tmp_path / "token"))
    (tmp_path / "prometheus.yml").write_text(config)
    done = subprocess.run(
        [_promtool(), "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_runs_prometheus_and_grafana_pinned_with_every_mount_present() -> None:
    found = services()
    for name in ("prometheus", "grafana"):
        image = found[name]["image"]
        assert re.fullmatch(r"(prom/prometheus|grafana/grafana):v?\d+\.\d+\.\d+", image), image
        for volume in found[name]["volumes"]:
            host, _, rest = volume.partition(":")
            if host.startswith("./"):
                assert (ROOT / host).exists(), f"{name} mounts missing {host}"
                assert rest.endswith(":ro"), volume
    mounts = {v.split(":")[1]: v.split(":")[0] for v in found["prometheus"]["volumes"] if v.startswith("./")}
    config = yaml.safe_load((ROOT / mounts["/etc/prometheus/prometheus.yml"]).read_text())
    for rule_file in config["rule_files"]:
        assert rule_file in mounts, f"{rule_file} is not mounted"
    assert mounts["/etc/prometheus/rules.yml"] == "./deploy/prometheus/rules.yml"
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets == {"figway-gateway": ["gateway:8000"], "figway-services": ["services:8001"]}
    token = config["scrape_configs"][0]["authorization"]["credentials_file"]
    assert token == "/run/secrets/" + found["prometheus"]["secrets"][0]
    assert "--config.file=/etc/prometheus/prometheus.yml" in found["prometheus"]["command"]
    grafana = {v.split(":")[1]: v.split(":")[0] for v in found["grafana"]["volumes"] if v.startswith("./")}
    provider = yaml.safe_load(
        (ROOT / grafana["/etc/grafana/provisioning"] / "dashboards" / "figway.yml").read_text()
    )
    dashboards = provider["providers"][0]["options"]["path"]
    assert (ROOT / grafana[dashboards] / DASHBOARD.name).is_file()
    assert (
        found["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
        == f"{dashboards}/{DASHBOARD.name}"
    )
