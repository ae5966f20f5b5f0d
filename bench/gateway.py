"""`python -m bench gateway`: the same small JSON endpoint direct, through nginx, through figway.

Each server runs as its own process with one worker: the backend (uvicorn + httptools + uvloop,
bare ASGI), nginx (upstream keepalive), and the gateway (`python -m gateway serve`, every feature
on: a table with 60 routes to match against, header rewriting, X-Request-ID, route headers, one
JSON access-log line per request, Prometheus metrics). wrk drives each at c=1 and c=32.
Results: bench/results/gateway.md and gateway.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
PATH = "/api/videos/42"


@dataclass
class Run:
    target: str
    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def process(
    args: Sequence[str], port: int, *, env: dict[str, str] | None = None, log: Path
) -> Iterator[None]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(args),
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        try:
            wait_for(port)
            yield
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    found = re.match(r"([\d.]+)(us|ms|s)", text)
    if not found:
        raise ValueError(f"cannot read a latency from {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def wrk(url: str, connections: int, seconds: int) -> tuple[float, float, float, int]:
    threads = 1 if connections == 1 else 2
    args = [WRK, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE).group(1))  # type: ignore[union-attr]
    errors = 0
    for found in re.finditer(r"Non-2xx or 3xx responses:\s+(\d+)|Socket errors:.*?(\d+) timeout", output):
        errors += int(found.group(1) or found.group(2) or 0)
    return rps, p50, p99, errors


def nginx_conf(directory: Path, port: int, backend: int) -> Path:
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    upstream backend {{
        server 127.0.0.1:{backend};
        keepalive 128;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""
    )
    return conf


def routing_table(directory: Path, backend: int) -> Path:
    routes = []
    for index in range(20):
        routes.append(
            f"  - id: r{index}-item\n    path: /api/r{index}/{{id:int}}\n    methods: [GET, PUT]\n    to: backend\n"  # noqa: E501
        )
        routes.append(
            f"  - id: r{index}-list\n    path: /api/r{index}/\n    methods: [GET]\n    to: backend\n"
        )
        routes.append(f"  - id: r{index}-rest\n    path: /static/r{index}/{{rest:path}}\n    to: backend\n")
    routes.append(
        "  - id: videos-item\n    path: /api/videos/{id:int}\n    methods: [GET, PUT, DELETE]\n    to: backend\n"  # noqa: E501
    )
    text = (
        "version: 1\ntimezone: UTC\nupstreams:\n"
        f"  legacy: {{url: 'http://127.0.0.1:{backend}'}}\n"
        f"  backend: {{url: 'http://127.0.0.1:{backend}', pool: {{max_connections: 256}}}}\n"
        "default: legacy\nroutes:\n" + "".join(routes)
    )
    path = directory / "routing.yaml"
    path.write_text(text)
    return path


def fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3f}"


def report(runs: list[Run], seconds: int, rounds: int) -> str:
    by = {(r.target, r.connections): r for r in runs}
    lines = [
        "# Gateway benchmark",
        "",
        f"`python -m bench gateway` on {platform.node()} ({os.cpu_count()} CPUs, {platform.python_version()}), "  # noqa: E501
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.1f}. "
        f"Medians of {rounds} interleaved rounds of wrk, {seconds} s per cell; one worker per server; "
        "223-byte JSON from a bare ASGI app under uvicorn (httptools, uvloop). The gateway runs with every "
        "feature on (60-route table, header rewriting, request ids, route headers, JSON access log, "
        "metrics).",
        "",
        "| target | c | req/s | p50 ms | p99 ms | req/s vs direct | req/s vs nginx | added p50 vs direct (ms) |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        direct = by.get(("direct", run.connections))
        nginx = by.get(("nginx", run.connections))
        vs_direct = f"{run.requests_per_s / direct.requests_per_s:.2f}x" if direct else "-"
        vs_nginx = f"{run.requests_per_s / nginx.requests_per_s:.2f}x" if nginx else "-"
        added = f"{run.p50_ms - direct.p50_ms:+.3f}" if direct else "-"
        lines.append(
            f"| {run.target} | {run.connections} | {fmt(run.requests_per_s)} | {run.p50_ms:.3f} | "
            f"{run.p99_ms:.3f} | {vs_direct} | {vs_nginx} | {added} |"
        )
    gateway1, nginx1 = by.get(("gateway", 1)), by.get(("nginx", 1))
    gateway32, nginx32 = by.get(("gateway", 32)), by.get(("nginx", 32))
    if gateway1 and nginx1 and gateway32 and nginx32:
        lines += [
            "",
            f"- Throughput at c=32: gateway/nginx = {gateway32.requests_per_s / nginx32.requests_per_s:.2f} "
            "(target >= 0.30).",
            f"- p50 at c=1: gateway adds {gateway1.p50_ms - nginx1.p50_ms:+.3f} ms over nginx (target <= 0.30 ms).",  # noqa: E501
        ]
    return "\n".join(lines) + "\n"


def ensure_tools() -> bool:
    """wrk and nginx, installed with apt-get when missing and possible (as the issue asks)."""
    missing = [package for package, tool in (("wrk", WRK), ("nginx", NGINX)) if not Path(tool).exists()]
    if missing and shutil.which("apt-get") and os.geteuid() == 0:
        print(f"installing {' '.join(missing)} with apt-get", file=sys.stderr)
        install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        if subprocess.run(install, check=False).returncode != 0:  # a fresh machine has no package lists
            subprocess.run(["apt-get", "update"], check=False)
            subprocess.run(install, check=False)
    still = [tool for tool in (WRK, NGINX) if not Path(tool).exists()]
    if still:
        print(f"missing {' '.join(still)}: apt-get install -y wrk nginx", file=sys.stderr)
    return not still


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench gateway")
    parser.add_argument("--seconds", type=int, default=4, help="wrk duration per cell and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--levels", default="1,32", help="wrk connection counts, comma-separated")
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",") if level]
    if not ensure_tools():
        return 1
    samples: dict[tuple[str, int], list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="figway-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        backend = free_port()
        backend_args = [
            sys.executable, "-m", "uvicorn", "bench.gateway_backend:app", "--port", str(backend),
            "--workers", "1", "--log-level", "warning", "--no-access-log", "--loop", "uvloop", "--http", "httptools",  # noqa: E501
        ]  # fmt: skip
        stack.enter_context(process(backend_args, backend, log=work / "backend.log"))
        nginx_port = free_port()
        conf = nginx_conf(work, nginx_port, backend)
        stack.enter_context(
            process([NGINX, "-p", str(work), "-c", str(conf)], nginx_port, log=work / "nginx.log")
        )
        gateway_port = free_port()
        env = {
            "GATEWAY_ROUTING_FILE": str(routing_table(work, backend)),
            "GATEWAY_LOG_FORMAT": "json",
            "GATEWAY_ACCESS_LOG": "true",
            "GATEWAY_ROUTE_HEADERS": "true",
            "GATEWAY_WATCH": "true",
            "GATEWAY_ADMIN_TOKEN": "bench",
        }
        serve = [sys.executable, "-m", "gateway", "serve", "--port", str(gateway_port), "--workers", "1"]
        log = work / "gateway.log"
        stack.enter_context(process(serve, gateway_port, env=env, log=log))
        urls = {
            "direct": f"http://127.0.0.1:{backend}{PATH}",
            "nginx": f"http://127.0.0.1:{nginx_port}{PATH}",
            "gateway": f"http://127.0.0.1:{gateway_port}{PATH}",
        }
        for url in urls.values():
            wrk(url, 8, 1)  # warm up connections, pools and caches
        # Rounds interleave the targets so that load from elsewhere on the machine hits them alike.
        for round_number in range(1, args.rounds + 1):
            for connections in levels:
                for target, url in urls.items():
                    rps, p50, p99, errors = wrk(url, connections, args.seconds)
                    print(
                        f"round {round_number} {target:8} c={connections:<3} {rps:10,.0f} req/s  "
                        f"p50 {p50:.3f} ms  p99 {p99:.3f} ms",
                        file=sys.stderr,
                    )
                    samples.setdefault((target, connections), []).append(
                        Run(target, connections, rps, p50, p99, errors)
                    )
        access_lines = sum(1 for line in log.open() if '"proxy.request"' in line)
        print(f"gateway wrote {access_lines} access-log lines", file=sys.stderr)
    runs = [median_run(samples[(target, c)]) for c in levels for target in ("direct", "nginx", "gateway")]
    text = report(runs, args.seconds, args.rounds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "gateway.md").write_text(text)
    payload = {
        "seconds": args.seconds,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "median": [asdict(r) for r in runs],
        "samples": [asdict(r) for rs in samples.values() for r in rs],
    }
    (RESULTS / "gateway.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(text)
    return 0


def median_run(runs: list[Run]) -> Run:
    first = runs[0]
    return Run(
        first.target,
        first.connections,
        statistics.median(r.requests_per_s for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.errors for r in runs),
    )
