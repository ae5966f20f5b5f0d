"""`python -m bench enrich`: artist enrichment on legacy (gunicorn, 1 process, 8 threads) against
services (uvicorn, 1 process), both calling the fake provider server with 50 ms latency.

Every request is `POST /api/metadata-enrichment/enrich/<id>?force=true` (force: a fresh artist
would skip the providers), ids cycling over the seeded artists; each one costs five provider
calls (Spotify search + artist, MusicBrainz, Last.fm, IMVDb) and one database write.
MusicBrainz's 1 request/s limit is LIFTED for this run on both sides and in the fake (it would
cap both at one enrichment per second and measure nothing else); IMVDb/Last.fm spacing too.
wrk drives each side at c=64 and c=256. Results: bench/results/enrich.md and enrich.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench._load import peak_rss, server, tree_cpu, wrk
from bench.gateway import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MARIADB_ENV = "FIGWAY_TEST_MARIADB_URL"
LATENCY = 0.05
SEED_SCALE = 0.1  # 20 artists
ARTISTS = 20
LUA = """
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/api/metadata-enrichment/enrich/" .. ((counter % {n}) + 1) .. "?force=true")
end
"""


DATABASES = {"sqlite": "SQLite (WAL) on tmpfs", "mariadb": "MariaDB (local server)"}


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
    provider_calls: int
    cpu_ms_per_request: float


def _prepare(db: Path, mariadb: str | None = None) -> str:
    from legacy_flask.seed import seed
    from services.migrate import upgrade
    from services.settings import Settings

    url = f"sqlite+pysqlite:///{db}"
    if mariadb:
        name = f"figway_bench_{os.getpid()}"
        server_url = make_url(mariadb).set(drivername="mysql+pymysql", database=None)
        admin = create_engine(server_url)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
        admin.dispose()
        url = server_url.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        seed(engine, scale=SEED_SCALE)
    finally:
        engine.dispose()
    upgrade(Settings(database_url=url))
    return url


@contextmanager
def _dropped_after(url: str) -> Iterator[None]:
    try:
        yield
    finally:
        parsed = make_url(url)
        if parsed.drivername.startswith("mysql"):
            admin = create_engine(parsed.set(database=None))
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{parsed.database}`"))
            admin.dispose()


def _provider_env(fake: str) -> dict[str, str]:
    from tests.fakes import providers

    return {
        "SPOTIFY_API_URL": f"{fake}/spotify/v1",
        "SPOTIFY_ACCOUNTS_URL": f"{fake}/spotify/accounts",
        "MUSICBRAINZ_API_URL": f"{fake}/musicbrainz/ws/2",
        "LASTFM_API_URL": f"{fake}/lastfm/2.0/",
        "IMVDB_API_URL": f"{fake}/imvdb/api/v1",
        "SPOTIFY_CLIENT_ID": providers.SPOTIFY_CLIENT_ID,
        "SPOTIFY_CLIENT_SECRET": providers.SPOTIFY_CLIENT_SECRET,
        "LASTFM_API_KEY": providers.LASTFM_API_KEY,
        "IMVDB_API_KEY": providers.IMVDB_API_KEY,
        "MUSICBRAINZ_MIN_INTERVAL": "0",
        "IMVDB_MIN_INTERVAL": "0",
        "LASTFM_MIN_INTERVAL": "0",
    }


def _calls(fake: str) -> int:
    return sum(httpx.get(f"{fake}/_fake/stats").json()["calls"].values())


def _side(
    side: str, url: str, pid: int, fake: str, levels: list[int], seconds: int, script: Path
) -> list[Cell]:
    wrk(url, 8, 2, script=script)  # warm-up: pools, token, caches
    cells = []
    for connections in levels:
        before, cpu = _calls(fake), tree_cpu(pid)
        with peak_rss(pid) as peak:
            load = wrk(url, connections, seconds, script=script)
        calls, cpu = _calls(fake) - before, tree_cpu(pid) - cpu
        cell = Cell(side, connections, load.requests_per_s, load.p50_ms, load.p99_ms, load.errors,
                    load.requests, round(peak[0] / 2**20, 1), calls,
                    round(cpu * 1000 / max(load.requests, 1), 2))  # fmt: skip
        print(
            f"{side:8} c={connections:<3} {cell.requests_per_s:8.1f} req/s  p50 {cell.p50_ms:8.1f} ms  "
            f"p99 {cell.p99_ms:8.1f} ms  errors {cell.errors}  rss {cell.peak_rss_mb} MB  "
            f"cpu {cell.cpu_ms_per_request} ms/req",
            file=sys.stderr,
        )
        cells.append(cell)
    return cells


def report(cells: list[Cell], seconds: int, levels: list[int], database: str) -> str:
    by = {(c.side, c.connections): c for c in cells}
    lines = [
        "# Enrichment benchmark",
        "",
        f"`python -m bench enrich` on {platform.node()} ({os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"wrk {seconds} s per cell, `POST /api/metadata-enrichment/enrich/<id>?force=true` "
        f"over {ARTISTS} artists, database {DATABASES[database]}. Fake providers: one uvicorn "
        f"process, {LATENCY * 1000:.0f} ms latency per call, 5 calls per enrichment. "
        "**MusicBrainz's 1 req/s limit (and IMVDb/Last.fm spacing) lifted on both sides for this "
        "run.** Legacy: gunicorn gthread, 1 process, 8 threads. Services: uvicorn, 1 process "
        "(provider transport: aiohttp under httpx), log level warning. All processes share the "
        "machine's CPUs with wrk and the fake.",
        "",
        "| side | c | req/s | p50 ms | p99 ms | errors | requests | peak RSS MB | provider calls "
        "| server CPU ms/request |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        lines.append(
            f"| {c.side} | {c.connections} | {c.requests_per_s:.1f} | {c.p50_ms:.1f} | {c.p99_ms:.1f} | "
            f"{c.errors} | {c.requests} | {c.peak_rss_mb} | {c.provider_calls} | {c.cpu_ms_per_request} |"
        )
    lines.append("")
    for level in levels:
        old, new = by.get(("legacy", level)), by.get(("services", level))
        if old and new and old.requests_per_s:
            lines.append(
                f"- c={level}: services/legacy throughput = {new.requests_per_s / old.requests_per_s:.1f}x"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench enrich")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--levels", default="64,256")
    parser.add_argument("--sides", default="legacy,services")
    parser.add_argument(
        "--database",
        choices=("sqlite", "mariadb"),
        default="mariadb" if os.environ.get(MARIADB_ENV) else "sqlite",
        help=f"mariadb needs {MARIADB_ENV} (a server URL whose user may create databases)",
    )
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    cells: list[Cell] = []
    # The database lives on tmpfs when there is one: on this VM's disk every SQLite commit's
    # fsync costs ~50 ms and both sides would measure the disk, not their request handling.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="figway-bench-enrich-", dir=shm if shm.is_dir() else None) as tmp:
        work = Path(tmp)
        db_url = _prepare(work / "figway.db", os.environ[MARIADB_ENV] if args.database == "mariadb" else None)
        script = work / "enrich.lua"
        script.write_text(LUA.replace("{n}", str(ARTISTS)))
        fake_port = free_port()
        fake = f"http://127.0.0.1:{fake_port}"
        fake_args = [
            sys.executable, "-m", "tests.fakes.providers", "--port", str(fake_port),
            "--latency", str(LATENCY), "--musicbrainz-min-interval", "0",
        ]  # fmt: skip
        env = {**_provider_env(fake), "DATABASE_URL": db_url, "MVIDARR_LOG_FILE": str(work / "legacy.log")}
        with _dropped_after(db_url), server(fake_args, fake_port, env={}, log=work / "fake.log", cwd=ROOT):
            for side in args.sides.split(","):
                port = free_port()
                if side == "legacy":
                    cmd = [
                        sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "1", "--threads", "8",
                        "-b", f"127.0.0.1:{port}", "--log-level", "warning", "legacy_flask.wsgi:app",
                    ]  # fmt: skip
                else:
                    cmd = [sys.executable, "-m", "services", "serve", "--port", str(port), "--workers", "1"]
                side_env = {**env, "SERVICES_LOG_LEVEL": "warning"}
                with server(cmd, port, env=side_env, log=work / f"{side}.log", cwd=ROOT) as proc:
                    url = f"http://127.0.0.1:{port}"
                    cells += _side(side, url, proc.pid, fake, levels, args.seconds, script)
    summary = report(cells, args.seconds, levels, args.database)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "enrich.md").write_text(summary)
    payload = {"seconds": args.seconds, "latency": LATENCY, "cells": [asdict(c) for c in cells]}
    (RESULTS / "enrich.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(summary)
    return 0
