"""`python -m bench pods`: the memory each pod needs, measured by running the pods' own commands.

The container commands and environment come from the rendered Kubernetes base (tools.kustomize), so
what is measured is what the Deployments run: the gateway (one uvicorn worker), the services (one
worker), legacy under gunicorn (2 workers x 8 threads), and the migration Job's two steps. Here,
each runs as a local process tree (ports moved to free loopback ports, 0.0.0.0 to 127.0.0.1)
against a seeded MariaDB database (``FIGWAY_TEST_MARIADB_URL``) and a private redis-server, with
the repository's routing table shifted in time to ``--at`` (default 2026-W52: canary 50 % and 25 %,
shadow and live routes at once, the busiest mix the plan has).

1. one request per path, then the RSS of each process tree ("idle");
2. wrk through the gateway over a mix of paths (every mode), at c=64 then c=256, ``--seconds``
   each, sampling every tree's RSS every 0.2 s ("peak");
3. RSS right after ("after").

RSS is summed over the tree (gunicorn's master and workers; shared library pages count once per
process, so the figure errs high). The suggested request is the peak plus 25 %, the limit twice the
peak, both rounded up to 32 MiB: room for the page cache the cgroup also charges, fragmentation
over days, and bigger answers than the demo data's. Results: bench/results/pods.md and pods.json;
tests/deploy/test_kubernetes.py fails when a manifest asks for less than these figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench._load import Load, peak_rss, server, tree_rss, wrk
from bench.gateway import ensure_tools, free_port
from tools import kustomize

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MIB = 2**20
ROUND = 32
PODS = {"gateway": "figway-gateway", "services": "figway-services", "legacy": "figway-legacy"}
PATHS = (
    "/api/videos/?limit=50",
    "/api/videos/search?q=love",
    "/api/videos/42",
    "/api/artists/?limit=50",
    "/api/artists/7",
    "/api/settings/",
    "/api/health",
)
_WEEK = re.compile(r"\b(\d{4})-W(\d{2})\b")


@dataclass
class Program:
    name: str
    command: str
    idle_mib: float
    peak_mib: float
    after_mib: float
    request_mib: int
    limit_mib: int


@dataclass
class Step:
    name: str
    load: Load


def shift_weeks(text: str, at: str) -> str:
    """The table as it will be during ISO week ``at``: every ``YYYY-Www`` moved back by the gap."""
    year, week = (int(part) for part in at.split("-W"))
    today = dt.date.today().isocalendar()
    gap = dt.date.fromisocalendar(year, week, 1) - dt.date.fromisocalendar(today.year, today.week, 1)

    def move(found: re.Match[str]) -> str:
        day = dt.date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1) - gap
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"

    return _WEEK.sub(move, text)


def suggest(peak_mib: float, factor: float) -> int:
    return int(math.ceil(peak_mib * factor / ROUND) * ROUND)


def local_command(argv: list[str], port: int) -> list[str]:
    """A container's argv for this machine: this venv's executables, a free loopback port."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "python":
            out.append(sys.executable)
        elif arg == "gunicorn":
            out.append(str(Path(sys.executable).with_name("gunicorn")))
        elif arg == "--host":
            out += [arg, "127.0.0.1"]
            next(args)
        elif arg == "--port":
            out += [arg, str(port)]
            next(args)
        elif arg == "--bind":
            out += [arg, f"127.0.0.1:{port}"]
            next(args)
        else:
            out.append(arg)
    return out


def local_env(container: dict[str, Any], values: dict[str, str]) -> dict[str, str]:
    """The container's literal env, with each secretKeyRef (and path or URL named here) filled locally."""
    env: dict[str, str] = {}
    for item in container.get("env", []):
        name = item["name"]
        if name in values:
            env[name] = values[name]
        elif "value" in item:
            env[name] = item["value"]
        elif not item["valueFrom"]["secretKeyRef"].get("optional"):
            raise KeyError(f"no local value for the secret {name}")
    return env


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback URL built here
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _mariadb(name: str) -> tuple[str, Any]:
    import sqlalchemy

    base = os.environ.get("FIGWAY_TEST_MARIADB_URL")
    if not base:
        raise SystemExit("bench pods: set FIGWAY_TEST_MARIADB_URL (source /work/ci-env.sh or .ci/run)")
    engine = sqlalchemy.create_engine(base)
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    return base.rstrip("/") + f"/{name}", engine


def main(argv: list[str]) -> int:  # noqa: PLR0915 - one linear script, easier to read whole
    parser = argparse.ArgumentParser(prog="python -m bench pods")
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration per load step")
    parser.add_argument("--at", default="2026-W52", help="ISO week of the rollout plan to run")
    parser.add_argument("--levels", default="64,256", help="wrk connection counts, one step each")
    args = parser.parse_args(argv)
    if not ensure_tools():
        return 1
    redis_binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    docs = kustomize.render("base")
    deployments = {name: kustomize.find(docs, "Deployment", pod) for name, pod in PODS.items()}
    job = kustomize.find(docs, "Job", "figway-migrate")
    database = f"figway_pods_{os.getpid()}"
    database_url, engine = _mariadb(database)
    try:
        with tempfile.TemporaryDirectory(prefix="figway-bench-pods-") as tmp:
            programs, steps, jobs = _measure(args, Path(tmp), deployments, job, database_url, redis_binary)
    finally:
        import sqlalchemy

        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS `{database}`"))
    text = report(programs, steps, jobs, args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pods.md").write_text(text)
    payload = {
        "at": args.at,
        "seconds": args.seconds,
        "programs": [asdict(p) for p in programs],
        "jobs": jobs,
        "steps": [{"name": s.name, **asdict(s.load)} for s in steps],
    }
    (RESULTS / "pods.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(text)
    return 0


def _measure(
    args: argparse.Namespace,
    work: Path,
    deployments: dict[str, dict[str, Any]],
    job: dict[str, Any],
    database_url: str,
    redis_binary: str,
) -> tuple[list[Program], list[Step], dict[str, float]]:
    ports = {name: free_port() for name in (*PODS, "redis")}
    routing = work / "routing" / "routing.yaml"
    routing.parent.mkdir()
    routing.write_text(shift_weeks((kustomize.KUSTOMIZE / "base" / "routing.yaml").read_text(), args.at))
    values = {
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "GATEWAY_ADMIN_TOKEN": secrets.token_urlsafe(48),
        "MVIDARR_SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET": secrets.token_urlsafe(48),
        "GATEWAY_ROUTING_FILE": str(routing),
        "GATEWAY_STATE_DIR": str(work / "state"),
        "GATEWAY_UPSTREAM_LEGACY_URL": f"http://127.0.0.1:{ports['legacy']}",
        "GATEWAY_UPSTREAM_SERVICES_URL": f"http://127.0.0.1:{ports['services']}",
        "MVIDARR_LOG_FILE": str(work / "legacy.log"),
    }
    base_env = {"MVIDARR_LOG_FILE": values["MVIDARR_LOG_FILE"], "GATEWAY_ACCESS_LOG": "false"}
    # The migration Job, as the dev overlay runs it (seed the demo data), then as the base does.
    jobs: dict[str, float] = {}
    seed = ["python", "-m", "legacy_flask", "seed", "--if-empty"]
    for step in (seed, *(c["command"] for c in kustomize.containers(job))):
        container = next(c for c in kustomize.containers(job) if c["command"][1:3] == step[1:3])
        env = {**base_env, **local_env(container, values)}
        print(f"bench pods: {' '.join(step)}", flush=True)
        proc = subprocess.Popen(
            local_command(step, 0), cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL
        )
        with peak_rss(proc.pid, every=0.05) as peak:
            if proc.wait() != 0:
                raise RuntimeError(f"{step} failed")
        jobs[" ".join(step[1:])] = round(peak[0] / MIB, 1)
    redis = [
        redis_binary,
        "--port",
        str(ports["redis"]),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        str(work),
    ]
    steps: list[Step] = []
    with ExitStack() as stack:
        stack.enter_context(server(redis, ports["redis"], env={}, log=work / "redis.log", cwd=work))
        pids: dict[str, int] = {}
        commands: dict[str, list[str]] = {}
        for name in ("legacy", "services", "gateway"):
            container = next(kustomize.containers(deployments[name], init=False))
            commands[name] = container["command"]
            env = {**base_env, **local_env(container, values)}
            print(f"bench pods: starting {name}: {' '.join(container['command'])}", flush=True)
            proc = stack.enter_context(
                server(local_command(container["command"], ports[name]), ports[name], env=env,
                       log=work / f"{name}.log", cwd=ROOT)
            )  # fmt: skip
            pids[name] = proc.pid
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        statuses = {path: _get(gateway + path) for path in PATHS}
        if any(status != 200 for status in statuses.values()):
            raise RuntimeError(f"every load path must answer 200 through the gateway: {statuses}")
        idle = {name: tree_rss(pid) for name, pid in pids.items()}
        peaks = dict(idle)
        script = work / "mix.lua"
        script.write_text(_wrk_script(PATHS))
        for level in (int(n) for n in args.levels.split(",")):
            print(f"bench pods: wrk c={level} {args.seconds}s through the gateway", flush=True)
            with ExitStack() as sampling:
                samplers = {name: sampling.enter_context(peak_rss(pid)) for name, pid in pids.items()}
                try:
                    load = wrk(gateway + "/", level, args.seconds, script=script)
                except subprocess.CalledProcessError as exc:
                    logs = {name: (work / f"{name}.log").read_text()[-2000:] for name in pids}
                    raise RuntimeError(f"wrk failed: {exc.stderr or exc.stdout}\n{logs}") from exc
            for name, peak in samplers.items():
                peaks[name] = max(peaks[name], peak[0])
            steps.append(Step(f"gateway mix c={level}", load))
            print(f"  {load.requests_per_s:8.0f} req/s p99 {load.p99_ms:.1f} ms non-2xx/errors {load.errors}")
        after = {name: tree_rss(pid) for name, pid in pids.items()}
    programs = []
    for name in pids:
        peak_mib = peaks[name] / MIB
        programs.append(
            Program(
                name=name,
                command=" ".join(commands[name]),
                idle_mib=round(idle[name] / MIB, 1),
                peak_mib=round(peak_mib, 1),
                after_mib=round(after[name] / MIB, 1),
                request_mib=suggest(peak_mib, 1.25),
                limit_mib=suggest(peak_mib, 2.0),
            )
        )
    return programs, steps, jobs


def _wrk_script(paths: tuple[str, ...]) -> str:
    quoted = ", ".join(json.dumps(path) for path in paths)
    # Each connection walks the list from its own offset; a client address per connection is all
    # the gateway sees, so canary routes split by connection, as they would by client.
    return (
        f"local paths = {{{quoted}}}\n"
        "local counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        "  return wrk.format('GET', paths[(counter % #paths) + 1])\n"
        "end\n"
    )


def report(
    programs: list[Program], steps: list[Step], jobs: dict[str, float], args: argparse.Namespace
) -> str:
    lines = [
        "# Pods: resident memory of each program as its Deployment runs it",
        "",
        f"Commands from the rendered Kubernetes base; MariaDB (demo data) and Redis; the routing table as"
        f" planned for {args.at}; wrk through the gateway over {len(PATHS)} paths (every mode) at"
        f" c={args.levels.replace(',', ', c=')}, {args.seconds}s each. RSS of each process tree, sampled"
        " every 0.2 s. Suggested request = peak x 1.25, limit = peak x 2, rounded up to 32 MiB.",
        "",
        "| pod | command | idle MiB | peak MiB | after MiB | request MiB | limit MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
        *(
            f"| {p.name} | `{p.command}` | {p.idle_mib:.1f} | {p.peak_mib:.1f} | {p.after_mib:.1f} |"
            f" {p.request_mib} | {p.limit_mib} |"
            for p in programs
        ),
        "",
        "| migration Job step | peak MiB |",
        "|---|---:|",
        *(f"| `{step}` | {peak:.1f} |" for step, peak in jobs.items()),
        "",
        "| load step | req/s | p50 ms | p99 ms | non-2xx + socket errors |",
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
