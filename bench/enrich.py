"""`python -m bench enrich`: artist enrichment on legacy (gunicorn, 1 process, 8 threads) against
services (uvicorn, 1 process), both calling the fake provider server (50 ms per call, and a
150 ms run closer to the real providers' latency), with the fair harness of bench/_fair.py.

Every request is `POST /api/metadata-enrichment/enrich/<id>?force=true` (force: a fresh artist
would skip the providers), ids cycling over the seeded artists; each one costs five provider
calls (Spotify search + artist, MusicBrainz, Last.fm, IMVDb) and one database write.
MusicBrainz's 1 request/s limit is LIFTED for this run on both sides and in the fake (it would
cap both at one enrichment per second and measure nothing else); IMVDb/Last.fm spacing too.
wrk drives each side at c=64 and c=256. Results: bench/results/enrich-<database>.md and .json,
flame graphs bench/results/flame-enrich-<database>-<side>.svg.
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
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench._fair import LOAD_CPU, SERVER_CPU, Cell, Sample, drain, flame_graph, interleave, measure, pinned
from bench._load import server, tree_cpu, wrk
from bench.db import _checkout
from bench.gateway import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
MARIADB_ENV = "FIGWAY_TEST_MARIADB_URL"
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


def _fake_calls(fake: str) -> int:
    return int(sum(httpx.get(f"{fake}/_fake/stats").json()["calls"].values()))


def _set_latency(fake: str, latency: float) -> None:
    body = {name: {"latency": latency} for name in ("spotify", "musicbrainz", "lastfm", "imvdb")}
    httpx.post(f"{fake}/_fake/config", json=body).raise_for_status()


def _key(connections: int, latency: float) -> str:
    return f"c={connections} latency={latency * 1000:.0f}ms"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def report(
    cells: dict[tuple[str, str], Cell], args: argparse.Namespace, keys: list[str], sides: list[str]
) -> str:
    loads = [c.median("load_average") for c in cells.values()]
    lines = [
        "# Enrichment benchmark",
        "",
        f"`python -m bench enrich` on {platform.node()} ({os.cpu_count()} CPUs shared with other work, "
        f"load average {min(loads):.1f}-{max(loads):.1f} during the cells; Python "
        f"{platform.python_version()}), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"`POST /api/metadata-enrichment/enrich/<id>?force=true` over {ARTISTS} artists, database "
        f"{DATABASES[args.database]}; 5 provider calls and 1 UPDATE per enrichment. Each server pinned "
        f"to CPU {SERVER_CPU}; wrk and the fake provider server (one uvicorn process) to CPU {LOAD_CPU}. "
        f"Both sides in one run: {args.rounds} interleaved rounds of {args.seconds} s per cell (side "
        "order alternating), every server drained (idle 1 s) before each cell, medians of the rounds. "
        "CPU ms/req: the server process tree's own CPU time (psutil) over the requests wrk completed; "
        "fake CPU ms/call likewise for the fake provider server. **MusicBrainz's 1 req/s limit (and "
        "IMVDb/Last.fm spacing) lifted on both sides for this run.** Legacy: gunicorn gthread, 1 "
        "process, 8 threads. Services: uvicorn, 1 process, log level warning, no access log"
        + (
            f"; `services@<ref>`: the services of that git ref, same command ({', '.join(args.baseline)})."
            if args.baseline
            else "."
        ),
        "",
        "| cell | side | req/s | ratio | p50 ms | p99 ms | CPU ms/req | errors | provider calls/req "
        "| fake CPU ms/call | load avg |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in keys:
        legacy = cells.get((key, "legacy"))
        for side in sides:
            cell = cells.get((key, side))
            if cell is None:
                continue
            rps = cell.median("requests_per_s")
            ratio = ""
            if side != "legacy" and legacy is not None and legacy.median("requests_per_s"):
                ratio = f"{rps / legacy.median('requests_per_s'):.1f}x"
            calls = cell.median_extra("fake_calls")
            requests = cell.median("requests")
            fake_ms = cell.median_extra("fake_cpu") * 1000 / calls if calls else 0.0
            lines.append(
                f"| {key} | {side} | {rps:.1f} | {ratio} | {cell.median('p50_ms'):.0f} | "
                f"{cell.median('p99_ms'):.0f} | {cell.median('cpu_ms_per_request'):.2f} | {cell.errors} | "
                f"{calls / requests if requests else 0:.2f} | {fake_ms:.3f} | "
                f"{cell.median('load_average'):.1f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench enrich")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--levels", default="64,256")
    parser.add_argument("--latencies", default="0.05,0.15", help="fake provider latency per call (s)")
    parser.add_argument("--sides", default="legacy,services")
    parser.add_argument("--no-flames", action="store_true", help="skip the py-spy flame graphs")
    parser.add_argument("--output", default="", help="result file stem (default enrich-<database>)")
    parser.add_argument(
        "--baseline", action="append", default=[], help="also run the services of this git ref (a third side)"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "mariadb"),
        default="mariadb" if os.environ.get(MARIADB_ENV) else "sqlite",
        help=f"mariadb needs {MARIADB_ENV} (a server URL whose user may create databases)",
    )
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    latencies = [float(x) for x in args.latencies.split(",")]
    sides = [s for s in args.sides.split(",") if s]
    keys = [_key(c, lat) for lat in latencies for c in levels]
    plan = {_key(c, lat): (c, lat) for lat in latencies for c in levels}
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
            "--latency", str(latencies[0]), "--musicbrainz-min-interval", "0",
        ]  # fmt: skip
        env = {**_provider_env(fake), "DATABASE_URL": db_url, "MVIDARR_LOG_FILE": str(work / "legacy.log")}
        commands = {
            "legacy": lambda port: [
                sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "1", "--threads", "8",
                "-b", f"127.0.0.1:{port}", "--log-level", "warning", "legacy_flask.wsgi:app",
            ],
            "services": lambda port: [
                sys.executable, "-m", "services", "serve", "--port", str(port), "--workers", "1",
                "--no-access-log",
            ],
        }  # fmt: skip
        side_env = {**env, "SERVICES_LOG_LEVEL": "warning"}
        with ExitStack() as stack:
            stack.enter_context(_dropped_after(db_url))
            fake_proc = stack.enter_context(
                server(pinned(fake_args, LOAD_CPU), fake_port, env={}, log=work / "fake.log", cwd=ROOT)
            )
            servers: dict[str, tuple[str, int]] = {}
            trees = {side: ROOT for side in sides}
            for ref in args.baseline:  # the services as they were at `ref`, same command
                trees[f"services@{ref}"] = stack.enter_context(_checkout(ref, work))
                commands[f"services@{ref}"] = commands["services"]
            for side, tree in trees.items():
                port = free_port()
                proc = stack.enter_context(
                    server(pinned(commands[side](port), SERVER_CPU), port, env=side_env,
                           log=work / f"{side.replace('/', '_')}.log", cwd=tree)
                )  # fmt: skip
                servers[side] = (f"http://127.0.0.1:{port}", proc.pid)
            sides = list(servers)
            for base, _pid in servers.values():
                wrk(base, 8, 2, script=script, cpu=LOAD_CPU)  # warm-up: pools, token, caches
            pids = [pid for _, pid in servers.values()]
            latency_now = [latencies[0]]

            def extra() -> dict[str, float]:
                return {"fake_calls": float(_fake_calls(fake)), "fake_cpu": tree_cpu(fake_proc.pid)}

            def run(key: str, side: str) -> Sample:
                connections, latency = plan[key]
                if latency != latency_now[0]:
                    _set_latency(fake, latency)
                    latency_now[0] = latency
                base, pid = servers[side]
                others = [p for p in pids if p != pid]
                return measure(
                    base, pid, connections, args.seconds, script=script, others=others, extra=extra
                )

            cells = interleave(keys, sides, args.rounds, run)
            if not args.no_flames:
                connections, latency = levels[0], latencies[0]
                _set_latency(fake, latency)
                for side, (base, pid) in servers.items():
                    if "@" in side:
                        continue  # a baseline: its flame graph is the one kept from its own run
                    svg = RESULTS / f"flame-enrich-{args.database}-{side}.svg"
                    drain(pids)
                    with flame_graph(pid, svg, args.seconds):
                        wrk(base, connections, args.seconds, script=script, cpu=LOAD_CPU)
                    _say(f"  flame graph {svg.name}")
    summary = report(cells, args, keys, sides)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = args.output or f"enrich-{args.database}"
    (RESULTS / f"{stem}.md").write_text(summary)
    payload = {
        "seconds": args.seconds,
        "rounds": args.rounds,
        "database": args.database,
        "cells": [
            {**cell.summary(), "connections": plan[key][0], "latency": plan[key][1]}
            for (key, _side), cell in cells.items()
        ],
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(summary)
    return 0
