"""`python -m bench all [--quick]`: every benchmark side by side in one run, then one report.

Runs the steps of ``PLAN`` in order (each is a registered benchmark with its arguments; MariaDB
steps only when ``FIGWAY_TEST_MARIADB_URL`` answers), prints a progress line per step, and writes

- ``bench/results/latest.md``: machine, versions, then each benchmark's table (both sides, ratios);
- ``bench/results/latest.json``: the same, as data (each step's own JSON payload included);
- ``bench/results/*.png``: throughput and p99 against concurrency (direct / nginx / gateway, and
  legacy against services), and memory idle and after load.

One run on purpose: these machines are noisy, and figures taken minutes apart under different
background load do not compare. A full run takes about 8 minutes on 2 CPUs; ``--quick`` about 3.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MARIADB_ENV = "FIGWAY_TEST_MARIADB_URL"
PACKAGES = (
    "uvicorn", "uvloop", "httptools", "fastapi", "starlette", "pydantic", "aiohttp", "httpx",
    "sqlalchemy", "aiosqlite", "aiomysql", "asyncmy", "pymysql", "flask", "werkzeug", "gunicorn", "redis",
)  # fmt: skip


@dataclass(frozen=True)
class Step:
    label: str
    benchmark: str
    full: tuple[str, ...]
    quick: tuple[str, ...]
    mariadb: bool = False


PLAN: tuple[Step, ...] = (
    Step("gateway", "gateway", ("--seconds", "4", "--rounds", "3", "--levels", "1,8,32,64"),
         ("--seconds", "2", "--rounds", "1", "--levels", "1,32")),
    Step("db", "db", ("--seconds", "6", "--rounds", "3"), ("--seconds", "2", "--rounds", "1", "--no-flames")),
    Step("enrich-sqlite", "enrich", ("--seconds", "8", "--database", "sqlite", "--output", "enrich"),
         ("--seconds", "3", "--rounds", "1", "--levels", "64", "--latencies", "0.05", "--database",
          "sqlite", "--no-flames", "--output", "enrich")),
    Step("enrich-mariadb", "enrich", ("--seconds", "8", "--database", "mariadb", "--output", "enrich"),
         ("--seconds", "3", "--rounds", "1", "--levels", "64", "--latencies", "0.05", "--database",
          "mariadb", "--no-flames", "--output", "enrich"), mariadb=True),
    Step("system", "system", ("--seconds", "8"), ("--seconds", "3")),
    Step("memory", "memory", ("--seconds", "8"), ("--seconds", "3")),
)  # fmt: skip


@dataclass
class Outcome:
    step: Step
    args: list[str]
    status: int = 0
    seconds: float = 0.0
    markdown: str = ""
    result: Any = None
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def say(text: str) -> None:
    print(f"bench all [{time.strftime('%H:%M:%S')}] {text}", flush=True)


def mariadb_version(url: str | None) -> str | None:
    """The server's version when the URL answers, else None."""
    if not url:
        return None
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        engine = create_engine(
            make_url(url).set(drivername="mysql+pymysql"), connect_args={"connect_timeout": 3}
        )
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SELECT VERSION()")).scalar_one())
        finally:
            engine.dispose()
    except Exception as exc:  # unreachable or refused: the MariaDB steps are skipped
        say(f"MariaDB at {MARIADB_ENV} does not answer ({type(exc).__name__}); SQLite only")
        return None


def _tool_version(args: list[str]) -> str:
    if shutil.which(args[0]) is None and not Path(args[0]).exists():
        return "missing"
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    found = re.search(r"\d+\.\d+(?:\.\d+)?", done.stdout + done.stderr)
    return found.group(0) if found else "unknown"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo", encoding="utf-8") as handle:
        found = re.search(r"MemTotal:\s+(\d+) kB", handle.read())
        if found:
            memory = f"{int(found.group(1)) / 2**20:.1f} GiB"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "host": platform.node(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": memory,
        "kernel": platform.release(),
        "os": platform.platform(),
        "commit": commit or "unknown",
    }


def versions(mariadb: str | None) -> dict[str, str]:
    found = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "missing"
    found["wrk"] = _tool_version([shutil.which("wrk") or "/usr/bin/wrk", "-v"])
    found["nginx"] = _tool_version([shutil.which("nginx") or "/usr/sbin/nginx", "-v"])
    found["mariadb"] = mariadb or "not reachable"
    return found


def run_step(step: Step, args: list[str]) -> Outcome:
    from bench.__main__ import BENCHMARKS

    outcome = Outcome(step, args)
    started = time.monotonic()
    try:
        outcome.status = importlib.import_module(BENCHMARKS[step.benchmark]).main(args)
    except Exception as exc:  # one broken benchmark must not lose the others' figures
        outcome.status, outcome.error = 1, f"{type(exc).__name__}: {exc}"
    outcome.seconds = time.monotonic() - started
    md, js = RESULTS / f"{step.benchmark}.md", RESULTS / f"{step.benchmark}.json"
    if (
        outcome.status == 0
        and md.exists()
        and js.exists()
        and md.stat().st_mtime >= time.time() - outcome.seconds - 1
    ):
        outcome.markdown = md.read_text(encoding="utf-8")
        outcome.result = json.loads(js.read_text(encoding="utf-8"))
    elif not outcome.error:
        outcome.error = f"exit status {outcome.status}" if outcome.status else "no fresh result files"
        outcome.status = outcome.status or 1
    return outcome


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench all", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter cells, fewer levels (about 3 min)")
    parser.add_argument("--only", help="comma-separated step labels (default: every step)")
    args = parser.parse_args(list(argv))
    started_at, started = time.time(), time.monotonic()
    mariadb = mariadb_version(os.environ.get(MARIADB_ENV))
    wanted = set(args.only.split(",")) if args.only else None
    steps = [s for s in PLAN if (wanted is None or s.label in wanted) and (mariadb or not s.mariadb)]
    say(f"{len(steps)} steps ({'quick' if args.quick else 'full'}): {', '.join(s.label for s in steps)}")
    outcomes: list[Outcome] = []
    load_before = os.getloadavg()
    for index, step in enumerate(steps, 1):
        step_args = list(step.quick if args.quick else step.full)
        if step.benchmark == "db" and not mariadb:
            step_args += ["--backends", "sqlite"]
        command = f"python -m bench {step.benchmark} {' '.join(step_args)}"
        say(f"step {index}/{len(steps)}: {step.label} ({command})")
        outcome = run_step(step, step_args)
        outcomes.append(outcome)
        verdict = "ok" if outcome.status == 0 else f"FAILED ({outcome.error})"
        say(f"step {index}/{len(steps)}: {step.label} {verdict} in {outcome.seconds:.0f}s")
    info = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started_at)),
        "duration_s": round(time.monotonic() - started, 1),
        "quick": args.quick,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
        "versions": versions(mariadb),
    }
    say("plots")
    from bench import plots

    images = plots.draw_all({o.step.label: o.result for o in outcomes if o.result is not None}, RESULTS)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(render(info, outcomes, images), encoding="utf-8")
    payload = {
        **info,
        "steps": [
            {
                "label": o.step.label,
                "benchmark": o.step.benchmark,
                "args": o.args,
                "status": "ok" if o.status == 0 else "failed",
                "error": o.error or None,
                "seconds": round(o.seconds, 1),
                "result": o.result,
            }
            for o in outcomes
        ],
        "plots": [image.name for image in images],
    }
    (RESULTS / "latest.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    failed = [o.step.label for o in outcomes if o.status != 0]
    say(f"done in {info['duration_s']:.0f}s; wrote bench/results/latest.md, latest.json, {len(images)} plots")
    if failed:
        say(f"failed steps: {', '.join(failed)}")
    return 1 if failed else 0


def render(info: dict[str, Any], outcomes: list[Outcome], images: list[Path]) -> str:
    m, v = info["machine"], info["versions"]
    lines = [
        "# figway benchmarks (latest run)",
        "",
        f"`python -m bench all{' --quick' if info['quick'] else ''}` started {info['started']}, took"
        f" {info['duration_s']:.0f} s. Every benchmark ran in this one session, one after the other, so"
        " the figures share the machine's background load (load average"
        f" {info['load_average_before'][0]:.1f} before, {info['load_average_after'][0]:.1f} after).",
        "",
        "| machine | |",
        "|---|---|",
        f"| host | {m['host']} (commit {m['commit']}) |",
        f"| CPU | {m['cpu']}, {m['cpus']} CPUs |",
        f"| memory | {m['memory']} |",
        f"| OS | {m['os']} |",
        "",
        "Versions: " + ", ".join(f"{name} {version}" for name, version in v.items()) + ".",
        "",
        "| step | command | result | seconds |",
        "|---|---|---|---:|",
    ]
    for o in outcomes:
        result = "ok" if o.status == 0 else f"failed: {o.error}"
        lines.append(
            f"| {o.step.label} | `python -m bench {o.step.benchmark} {' '.join(o.args)}` | {result} |"
            f" {o.seconds:.0f} |"
        )
    if images:
        lines += ["", "## Plots", ""]
        lines += [f"![{image.stem}]({image.name})" for image in images]
    for o in outcomes:
        if not o.markdown:
            continue
        body = re.sub(r"^(#+) ", lambda found: "#" + found.group(1) + " ", o.markdown.strip(), flags=re.M)
        lines += ["", f"<!-- step {o.step.label} -->", "", body]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
