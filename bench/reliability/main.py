"""Run the scenarios and the hostile-input suites, write the Markdown + JSON report."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.reliability import scenarios as sc
from bench.reliability.stack import ROOT, database

RESULTS = ROOT / "bench" / "results"
SUITES = {
    "hostile HTTP (raw sockets)": "tests/gateway/test_hostile_http.py",
    "routing.yaml fuzzer (hypothesis)": "tests/gateway/test_loader_fuzz.py",
    "OpenAPI fuzzing (schemathesis)": "tests/reliability/test_api_fuzz.py",
    "services fuzzing (schemathesis, every check and phase)": "tests/reliability/test_services_fuzz.py",
    "concurrent writes, legacy + services": "tests/reliability/test_concurrent_writes.py",
    "auth attacks through the gateway": "tests/reliability/test_gateway_auth_attacks.py",
}


@dataclass(frozen=True)
class Bounds:
    kill_seconds: float
    slow_seconds: float
    reloads: int
    shadow_seconds: float
    db_seconds: float
    soak_seconds: float
    flip_every: float


FULL = Bounds(60, 30, 200, 30, 60, 600, 60)
QUICK = Bounds(12, 6, 60, 6, 0, 15, 3)


def plan(bounds: Bounds, backends: list[str]) -> list[tuple[str, str, Callable[[str, Path], sc.Scenario]]]:
    steps: list[tuple[str, str, Callable[[str, Path], sc.Scenario]]] = []
    for backend in backends:
        steps.append(("kill", backend, lambda u, w: sc.kill_services(u, w, seconds=bounds.kill_seconds)))
    steps += [
        ("slow", "sqlite", lambda u, w: sc.slow_upstream(u, w, seconds=bounds.slow_seconds)),
        ("storm", "sqlite", lambda u, w: sc.reload_storm(u, w, reloads=bounds.reloads)),
        ("shadow", "sqlite", lambda u, w: sc.shadow_faults(u, w, seconds=bounds.shadow_seconds)),
    ]
    if bounds.db_seconds and "mariadb" in backends:
        steps.append(("mariadb", "mariadb", lambda u, w: sc.mariadb_restart(u, w, seconds=bounds.db_seconds)))
    steps.append(
        (
            "soak",
            "sqlite",
            lambda u, w: sc.soak(u, w, seconds=bounds.soak_seconds, flip_every=bounds.flip_every),
        )
    )
    return steps


def run_scenario(name: str, backend: str, fn: Callable[[str, Path], sc.Scenario]) -> sc.Scenario:
    print(f"reliability: {name} on {backend} ...", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"figway-rel-{name}-") as tmp:
        workdir = Path(tmp)
        try:
            with database(backend, workdir, os.environ.get("FIGWAY_TEST_MARIADB_URL")) as url:
                result = fn(url, workdir)
        except Exception as exc:  # noqa: BLE001 - a crashed scenario is a failed scenario in the report
            result = sc.Scenario(name)
            result.check("scenario ran to the end", False, f"{type(exc).__name__}: {exc}")
            logs = {p.name: p.read_text(errors="replace")[-2000:] for p in workdir.glob("*.log")}
            result.figures["process logs (tail)"] = logs
    result.figures["backend"] = backend
    result.figures["wall time (s)"] = round(time.monotonic() - started, 1)
    verdict = "ok" if result.ok else ("skipped" if result.skipped else "FAILED")
    print(f"reliability: {name} on {backend}: {verdict}", flush=True)
    for check in result.checks:
        print(f"    [{'x' if check.ok else ' '}] {check.what} {check.detail}", flush=True)
    return result


def run_suites(workdir: Path, *, examples: int) -> dict[str, dict[str, int]]:
    files = [path for path in SUITES.values() if (ROOT / path).exists()]
    junit = workdir / "suites.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *files],
        cwd=ROOT,
        check=False,
        env={**os.environ, "FIGWAY_FUZZ_EXAMPLES": str(examples)},
    )
    totals: dict[str, dict[str, int]] = {}
    if not junit.exists():
        return totals
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = (case.get("classname") or "").replace(".", "/") + ".py"
        label = next((name for name, path in SUITES.items() if module.endswith(path)), module)
        row = totals.setdefault(label, {"tests": 0, "passed": 0, "failed": 0, "skipped": 0})
        row["tests"] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            row["failed"] += 1
        elif case.find("skipped") is not None:
            row["skipped"] += 1
        else:
            row["passed"] += 1
    return totals


def _cell(value: Any) -> str:
    return "–" if value is None else str(value)


def report(results: list[sc.Scenario], suites: dict[str, dict[str, int]], bounds: Bounds, quick: bool) -> str:
    lines = [
        "# figway reliability: faults, load and hostile input",
        "",
        f"`python -m bench reliability{' --quick' if quick else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs (shared), loopback only. Every scenario starts its own processes "
        "(gunicorn legacy, uvicorn services, `python -m gateway serve`), holds a bounded closed-loop load "
        "through the gateway and injects its fault. Counts decide pass/fail; times are reported.",
        "",
        "| scenario | backend | load | faults | requests | failed | failed where a fallback exists "
        "| rows lost | rows duplicated | checks |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        verdict = (
            "skipped: " + r.skipped
            if r.skipped
            else ("all hold" if r.ok else f"**{sum(not c.ok for c in r.checks)} failed**")
        )
        lines.append(
            f"| {r.name} | {r.figures.get('backend')} | {r.load} | {r.faults} | {r.requests} | {r.failed} | "
            f"{_cell(r.failed_where_fallback)} | {_cell(r.rows_lost)} | {_cell(r.rows_duplicated)} "
            f"| {verdict} |"
        )
    lines += [
        "",
        "*failed* counts answers other than the one the scenario expects. A 504 on the slowed route is "
        "the expected answer there (the check is that it comes within the timeout). In the MariaDB restart, "
        "routes without a fallback fail while the database is down: those count in *failed*, and the check "
        "is that both apps recover on their own.",
        "",
    ]
    if suites:
        lines += [
            "## Hostile input suites (pytest)",
            "",
            "| suite | tests | passed | failed | skipped |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, row in suites.items():
            lines.append(
                f"| {name} | {row['tests']} | {row['passed']} | {row['failed']} | {row['skipped']} |"
            )
        lines.append("")
    for r in results:
        lines += [f"## {r.name} ({r.figures.get('backend')})", ""]
        if r.skipped:
            lines += [f"Skipped: {r.skipped}", ""]
            continue
        for check in r.checks:
            lines.append(
                f"- [{'x' if check.ok else ' '}] {check.what}"
                + (f" ({check.detail})" if check.detail else "")
            )
        lines.append("")
        for key, value in r.figures.items():
            if key == "process logs (tail)":
                continue
            lines.append(f"- {key}: {value}")
        lines.append("")
    lines.append(f"Bounds: {asdict(bounds)}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench reliability")
    parser.add_argument("--quick", action="store_true", help="the bounded CI variant")
    parser.add_argument("--only", nargs="*", help="scenario names: kill slow storm shadow mariadb soak")
    parser.add_argument("--no-suites", action="store_true", help="skip the pytest hostile-input suites")
    parser.add_argument("--out", type=Path, default=RESULTS / "reliability.md")
    args = parser.parse_args(list(argv))
    bounds = QUICK if args.quick else FULL
    backends = ["sqlite"] + (["mariadb"] if os.environ.get("FIGWAY_TEST_MARIADB_URL") else [])
    results = [
        run_scenario(name, backend, fn)
        for name, backend, fn in plan(bounds, backends)
        if not args.only or name in args.only
    ]
    suites: dict[str, dict[str, int]] = {}
    if not args.no_suites:
        with tempfile.TemporaryDirectory(prefix="figway-rel-suites-") as tmp:
            suites = run_suites(Path(tmp), examples=8 if args.quick else 50)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(results, suites, bounds, args.quick))
    payload = {
        "bounds": asdict(bounds),
        "scenarios": [asdict(r) | {"ok": r.ok} for r in results],
        "suites": suites,
    }
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=str))
    print(f"reliability: report in {args.out}", flush=True)
    failed_suites = any(row["failed"] for row in suites.values())
    return 0 if all(r.ok or r.skipped for r in results) and not failed_suites else 1
