"""`python -m bench all` orchestration, with a stand-in benchmark (the real ones take minutes)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from bench import __main__ as registry
from bench import plots, suite

GATEWAY_PAYLOAD = {
    "median": [
        {"target": target, "connections": c, "requests_per_s": rps, "p50_ms": 1.0, "p99_ms": p99, "errors": 0}
        for target, rps, p99 in (("direct", 9000, 2.0), ("nginx", 5000, 3.0), ("gateway", 2500, 9.0))
        for c in (1, 32)
    ]
}


def fake_benchmark(results: Path) -> types.ModuleType:
    module = types.ModuleType("tests.bench.fake_gateway")

    def main(argv: list[str]) -> int:
        if "--fail" in argv:
            return 3
        (results / "gateway.md").write_text("# Gateway benchmark\n\n| target | req/s |\n")
        (results / "gateway.json").write_text(json.dumps(GATEWAY_PAYLOAD))
        return 0

    module.main = main  # type: ignore[attr-defined]
    return module


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(suite, "RESULTS", tmp_path)
    monkeypatch.setitem(sys.modules, "tests.bench.fake_gateway", fake_benchmark(tmp_path))
    monkeypatch.setitem(registry.BENCHMARKS, "gateway", "tests.bench.fake_gateway")
    monkeypatch.delenv(suite.MARIADB_ENV, raising=False)
    return tmp_path


def test_all_writes_latest_report_json_and_plots(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suite, "PLAN", (suite.Step("gateway", "gateway", ("--full",), ("--quick",)),))
    assert suite.main(["--quick"]) == 0
    text = (sandbox / "latest.md").read_text()
    assert "`python -m bench all --quick`" in text
    assert "| gateway | `python -m bench gateway --quick` | ok |" in text
    assert "## Gateway benchmark" in text  # each benchmark's table, one level down
    assert "![gateway](gateway.png)" in text
    assert "python 3.11" in text and "mariadb not reachable" in text
    payload = json.loads((sandbox / "latest.json").read_text())
    assert payload["steps"][0]["status"] == "ok"
    assert payload["steps"][0]["result"] == GATEWAY_PAYLOAD
    assert payload["machine"]["cpus"] >= 1
    assert (sandbox / "gateway.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_failing_step_is_reported_and_the_run_exits_1(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(suite, "PLAN", (suite.Step("gateway", "gateway", ("--fail",), ("--fail",)),))
    assert suite.main([]) == 1
    payload = json.loads((sandbox / "latest.json").read_text())
    assert payload["steps"][0]["status"] == "failed"
    assert "exit status 3" in (sandbox / "latest.md").read_text()


def test_mariadb_steps_are_skipped_without_a_reachable_server(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        suite,
        "PLAN",
        (
            suite.Step("gateway", "gateway", (), ()),
            suite.Step("gateway-mariadb", "gateway", (), (), mariadb=True),
        ),
    )
    assert suite.main([]) == 0
    assert "1 steps (full): gateway" in capsys.readouterr().out


def test_every_plan_step_names_a_registered_benchmark() -> None:
    for step in suite.PLAN:
        assert step.benchmark in registry.BENCHMARKS


def test_plots_draw_every_kind_from_payloads(tmp_path: Path) -> None:
    results = {
        "gateway": GATEWAY_PAYLOAD,
        "db": [
            {"backend": "sqlite", "endpoint": "videos list (limit=50)", "side": side,
             "load": {"requests_per_s": 100.0, "p99_ms": 50.0}, "queries_per_request": 2.0}
            for side in ("legacy", "services")
        ],
        "enrich-sqlite": {"cells": [{"side": s, "connections": c, "requests_per_s": 10.0, "p99_ms": 99.0}
                                    for s in ("legacy", "services") for c in (64, 256)]},
        "system": {"cells": [{"side": s, "connections": 32, "requests_per_s": 50.0, "p99_ms": 9.0}
                             for s in ("legacy", "services")]},
        "memory": {"programs": [{"name": "gateway", "idle_mb": 70.0, "peak_mb": 80.0, "after_mb": 75.0}]},
        "unknown": {},
    }  # fmt: skip
    images = plots.draw_all(results, tmp_path)
    assert sorted(image.name for image in images) == [
        "db.png", "enrich-sqlite.png", "gateway.png", "memory.png", "system.png",
    ]  # fmt: skip
    assert plots.draw_all({"gateway": {"median": "broken"}}, tmp_path / "x") == []
