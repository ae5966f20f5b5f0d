"""`python -m bench system`: `GET /api/health/system` (df, free, uptime, ps, systemctl) on legacy
(gunicorn gthread, 1 process, 8 threads: five blocking `subprocess.run` one after another per
request) against services (uvicorn, 1 process: the five commands concurrently through the async
runner, at most `SYSTEM_COMMAND_CONCURRENCY` children at once) at c=32, in one run.

Reports throughput, p50/p99, errors, peak RSS of the server's own processes (gunicorn master
+ worker; uvicorn), and the services event loop's worst lag during the measured run, from its
`figway_event_loop_lag_seconds` histogram (a 10 ms ticker inside the server, scraped before and
after: the figure is the bound of the smallest bucket holding every tick of the run). The CPUs
are shared with wrk and the commands, so the lag includes time the server was not scheduled.
Results: bench/results/system.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench._load import peak_rss, server, tree_cpu, wrk
from bench.gateway import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PATH = "/api/health/system"


@dataclass
class Cell:
    side: str
    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    peak_rss_mb: float
    cpu_ms_per_request: float
    worst_loop_lag_ms: float | None


def _lag_buckets(url: str) -> dict[float, float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.findall(
        r'^figway_event_loop_lag_seconds_bucket\{le="([^"]+)"\} ([\d.e+-]+)$', text, re.MULTILINE
    )
    return {float(le): float(count) for le, count in found}


def _worst_lag_ms(before: dict[float, float], after: dict[float, float]) -> float | None:
    """Upper bound of the worst lag during the run: the smallest histogram bucket holding every
    tick observed between the two scrapes (`inf` when a tick was later than the largest bucket)."""
    if not after:
        return None
    total = after[float("inf")] - before.get(float("inf"), 0.0)
    for bound in sorted(after):
        if after[bound] - before.get(bound, 0.0) >= total:
            return bound * 1000
    return None


def report(cells: list[Cell], seconds: int) -> str:
    by = {(c.side, c.connections): c for c in cells}
    lines = [
        "# System-commands benchmark",
        "",
        f"`python -m bench system` on {platform.node()} ({os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. wrk "
        f"{seconds} s per cell on `GET {PATH}` (five commands per request: df, free, uptime, ps, "
        "systemctl). Legacy: gunicorn gthread, 1 process, 8 threads. Services: uvicorn, 1 process, "
        "log level warning. Both share the CPUs with wrk and with the commands they start.",
        "",
        "| side | c | req/s | p50 ms | p99 ms | errors | requests | peak RSS MB | server CPU ms/request "
        "| worst loop lag ms (<=) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        lag = "-" if c.worst_loop_lag_ms is None else f"{c.worst_loop_lag_ms}"
        lines.append(
            f"| {c.side} | {c.connections} | {c.requests_per_s:.1f} | {c.p50_ms:.1f} | {c.p99_ms:.1f} | "
            f"{c.errors} | {c.requests} | {c.peak_rss_mb} | {c.cpu_ms_per_request} | {lag} |"
        )
    lines.append("")
    for level in sorted({c.connections for c in cells}):
        old, new = by.get(("legacy", level)), by.get(("services", level))
        if old and new and old.requests_per_s:
            lines.append(
                f"- c={level}: services/legacy throughput = {new.requests_per_s / old.requests_per_s:.2f}x"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench system")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sides", default="legacy,services")
    args = parser.parse_args(argv)
    cells: list[Cell] = []
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="figway-bench-system-", dir=shm if shm.is_dir() else None) as tmp:
        work = Path(tmp)
        env = {
            "DATABASE_URL": f"sqlite+pysqlite:///{work / 'figway.db'}",
            "MVIDARR_LOG_FILE": str(work / "legacy.log"),
            "SERVICES_LOG_LEVEL": "warning",
        }
        for side in args.sides.split(","):
            port = free_port()
            if side == "legacy":
                cmd = [
                    sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "1", "--threads", "8",
                    "-b", f"127.0.0.1:{port}", "--log-level", "warning", "legacy_flask.wsgi:app",
                ]  # fmt: skip
            else:
                cmd = [sys.executable, "-m", "services", "serve", "--port", str(port), "--workers", "1"]
            with server(cmd, port, env=env, log=work / f"{side}.log", cwd=ROOT) as proc:
                url = f"http://127.0.0.1:{port}"
                wrk(f"{url}{PATH}", 4, 2)  # warm-up
                lag_before = _lag_buckets(url) if side == "services" else {}
                cpu = tree_cpu(proc.pid)
                with peak_rss(proc.pid, servers_only=True) as peak:
                    load = wrk(f"{url}{PATH}", args.connections, args.seconds)
                cpu = tree_cpu(proc.pid) - cpu
                cell = Cell(
                    side, args.connections, load.requests_per_s, load.p50_ms, load.p99_ms, load.errors,
                    load.requests, round(peak[0] / 2**20, 1), round(cpu * 1000 / max(load.requests, 1), 2),
                    _worst_lag_ms(lag_before, _lag_buckets(url)) if side == "services" else None,
                )  # fmt: skip
                print(f"{side:8} {cell}", file=sys.stderr)
                cells.append(cell)
    summary = report(cells, args.seconds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "system.md").write_text(summary)
    payload = {"seconds": args.seconds, "cells": [asdict(c) for c in cells]}
    (RESULTS / "system.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(summary)
    return 0
