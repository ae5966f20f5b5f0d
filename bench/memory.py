"""`python -m bench memory`: resident memory of every program, idle and after the heaviest load.

The four programs run as they are deployed (one process or worker each, so the figures compare):
legacy under gunicorn (1 worker x 8 threads), services (uvicorn, 1 process), the gateway (1 worker,
the repository's routing.yaml with `/api/videos/` cut over to services, upstream addresses from
GATEWAY_UPSTREAM_*_URL) and nginx in front of legacy. On a seeded SQLite file on tmpfs:

1. one request each, then RSS of each process tree ("idle");
2. wrk c=64 through the gateway to services, through the gateway to legacy, and through nginx to
   legacy, one after the other, sampling every tree's peak RSS;
3. RSS of each tree right after the last run ("after load").

Results: bench/results/memory.md and memory.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from bench._load import Load, peak_rss, server, tree_rss, wrk
from bench.gateway import NGINX, ensure_tools, free_port, nginx_conf

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MB = 2**20
ROUTES = """\
version: 1
timezone: UTC
upstreams:
  legacy: {url: "http://127.0.0.1:1"}
  services: {url: "http://127.0.0.1:2", health: /healthz}
default: legacy
routes:
  - id: videos-list
    path: /api/videos/
    methods: [GET]
    to: services
"""


@dataclass
class Program:
    name: str
    idle_mb: float
    peak_mb: float
    after_mb: float


@dataclass
class Step:
    name: str
    load: Load


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback URL built here
        answer.read()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench memory")
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per load step")
    parser.add_argument("--scale", type=float, default=0.2, help="seed size (fraction of the demo set)")
    args = parser.parse_args(argv)
    if not ensure_tools():
        return 1
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="figway-bench-mem-", dir=shm if shm.is_dir() else None) as tmp:
        work = Path(tmp)
        db = f"sqlite+pysqlite:///{work / 'figway.db'}"
        env = {"DATABASE_URL": db, "SERVICES_LOG_LEVEL": "warning", "MVIDARR_LOG_FILE": str(work / "l.log")}
        print("bench memory: seeding SQLite", flush=True)
        for step in (["legacy_flask", "seed", "--scale", str(args.scale)], ["services", "migrate"]):
            subprocess.run(
                [sys.executable, "-m", *step],
                cwd=ROOT,
                env={**os.environ, **env},
                check=True,
                capture_output=True,
            )
        ports = {name: free_port() for name in ("legacy", "services", "gateway", "nginx")}
        routing = work / "routing.yaml"
        routing.write_text(ROUTES)
        commands = {
            "legacy": [
                str(Path(sys.executable).with_name("gunicorn")), "-w", "1", "--threads", "8",
                "-b", f"127.0.0.1:{ports['legacy']}", "--log-level", "warning", "legacy_flask.wsgi:app",
            ],
            "services": [
                sys.executable, "-m", "services", "serve", "--port", str(ports["services"]), "--workers", "1",
                "--no-access-log",
            ],
            "gateway": [
                sys.executable, "-m", "gateway", "serve", "--config", str(routing),
                "--port", str(ports["gateway"]), "--workers", "1",
            ],
            "nginx": [NGINX, "-p", str(work), "-c", str(nginx_conf(work, ports["nginx"], ports["legacy"]))],
        }  # fmt: skip
        gateway_env = {
            **env,
            "GATEWAY_UPSTREAM_LEGACY_URL": f"http://127.0.0.1:{ports['legacy']}",
            "GATEWAY_UPSTREAM_SERVICES_URL": f"http://127.0.0.1:{ports['services']}",
            "GATEWAY_LOG_FORMAT": "json",
            "GATEWAY_WATCH": "false",
            "GATEWAY_ADMIN_TOKEN": "bench",
        }
        steps: list[Step] = []
        with ExitStack() as stack:
            pids: dict[str, int] = {}
            for name, command in commands.items():
                print(f"bench memory: starting {name}", flush=True)
                proc = stack.enter_context(
                    server(
                        command,
                        ports[name],
                        env=gateway_env if name == "gateway" else env,
                        log=work / f"{name}.log",
                        cwd=ROOT,
                    )
                )
                pids[name] = proc.pid
            urls = {
                "gateway -> services": f"http://127.0.0.1:{ports['gateway']}/api/videos/?limit=50",
                "gateway -> legacy": f"http://127.0.0.1:{ports['gateway']}/api/artists/",
                "nginx -> legacy": f"http://127.0.0.1:{ports['nginx']}/api/artists/",
            }
            for url in urls.values():
                _get(url)
            idle = {name: tree_rss(pid) for name, pid in pids.items()}
            peaks: dict[str, int] = dict(idle)
            for step, url in urls.items():
                print(f"bench memory: wrk c=64 {args.seconds}s {step}", flush=True)
                with ExitStack() as sampling:
                    samplers = {name: sampling.enter_context(peak_rss(pid)) for name, pid in pids.items()}
                    load = wrk(url, 64, args.seconds)
                for name, peak in samplers.items():
                    peaks[name] = max(peaks[name], peak[0])
                steps.append(Step(step, load))
                print(f"  {load.requests_per_s:8.0f} req/s p99 {load.p99_ms:.1f} ms errors {load.errors}")
            after = {name: tree_rss(pid) for name, pid in pids.items()}
        programs = [
            Program(name, round(idle[name] / MB, 1), round(peaks[name] / MB, 1), round(after[name] / MB, 1))
            for name in commands
        ]
    text = report(programs, steps, args.seconds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "memory.md").write_text(text)
    payload = {
        "seconds": args.seconds,
        "programs": [asdict(p) for p in programs],
        "steps": [{"name": s.name, **asdict(s.load)} for s in steps],
    }
    (RESULTS / "memory.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(text)
    return 0


def report(programs: list[Program], steps: list[Step], seconds: int) -> str:
    lines = [
        "# Memory: resident set of each program, idle and after the heaviest load",
        "",
        "One process (or worker) per program; RSS of the whole process tree (gunicorn and uvicorn"
        f" include their supervisor). Load: wrk -c64 for {seconds}s per step, steps one after the other.",
        "",
        "| program | idle MB | peak under load MB | after load MB |",
        "|---|---:|---:|---:|",
        *(f"| {p.name} | {p.idle_mb:.1f} | {p.peak_mb:.1f} | {p.after_mb:.1f} |" for p in programs),
        "",
        "| load step | req/s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {s.name} | {s.load.requests_per_s:.0f} | {s.load.p50_ms:.1f} | {s.load.p99_ms:.1f} |"
            f" {s.load.errors} |"
            for s in steps
        ),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
