"""`python -m bench db`: the database-bound endpoints, legacy (as deployed) against the services.

Legacy runs as deployed: gunicorn, 1 process, 8 threads (`legacy_flask.wsgi:app`). The
services run under uvicorn, 1 process. Both use the same database, seeded with legacy's
deterministic demo data (scale 1: 200 artists, 5,000 videos, 50 playlists), on MariaDB
(`FIGWAY_TEST_MARIADB_URL` or `--mariadb-url`) and on a SQLite file. wrk (c=64) drives:

- `GET /api/videos/?limit=50`, `GET /api/videos/search?q=Running`, `GET /api/artists/`
- a write mix (wrk Lua): video status changes, setting writes and video reads.

Queries per request are counted in-process on each app's engine (SQLAlchemy
`before_cursor_execute`), over the same requests. Results: bench/results/db.md and db.json.
Not a test: figures depend on the machine (and on whatever else runs on it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from bench._fair import LOAD_CPU, SERVER_CPU, Sample, drain, flame_graph, interleave, measure, pinned
from bench._load import server, wrk
from bench.gateway import RESULTS, ROOT, free_port

READ_ENDPOINTS = {
    "videos list (limit=50)": "/api/videos/?limit=50",
    "videos search (q=Running)": "/api/videos/search?q=Running",
    "artists list": "/api/artists/",
}
WRITE_MIX = "write mix (status PUT 50%, setting PUT 25%, video GET 25%)"
WRITE_LUA = """
cookie = "COOKIE"
json_headers = {["Content-Type"] = "application/json", ["Cookie"] = cookie}
counter = 0
statuses = {"WANTED", "DOWNLOADED", "IGNORED", "FAILED"}
request = function()
  counter = counter + 1
  local id = (counter * 7919) % 5000 + 1
  local kind = counter % 4
  if kind == 0 or kind == 1 then
    local body = '{"status": "' .. statuses[(counter % 4) + 1] .. '"}'
    return wrk.format("PUT", "/api/videos/" .. id .. "/status", json_headers, body)
  elseif kind == 2 then
    local body = '{"value": "' .. counter .. '"}'
    return wrk.format("PUT", "/api/settings/bench_counter", json_headers, body)
  end
  return wrk.format("GET", "/api/videos/" .. id, {["Cookie"] = cookie})
end
"""


def write_sample(side: str) -> list[tuple[str, str, Any]]:
    """The write mix's request kinds, with values this side has not written yet (no no-op UPDATEs)."""
    status = {"legacy": ("WANTED", "FAILED"), "services": ("IGNORED", "DOWNLOADED")}[side]
    return [
        ("PUT", "/api/videos/17/status", {"status": status[0]}),
        ("PUT", "/api/videos/18/status", {"status": status[1]}),
        ("PUT", "/api/settings/bench_counter", {"value": side}),
        ("GET", "/api/videos/19", None),
    ]


@dataclass
class Row:
    backend: str
    endpoint: str
    side: str
    summary: dict[str, object]
    queries_per_request: float


def _seed(sync_url: str) -> dict[str, int]:
    from legacy_flask.seed import seed

    engine = create_engine(sync_url)
    try:
        return seed(engine, scale=1.0)
    finally:
        engine.dispose()


def _migrate(sync_url: str) -> None:
    from services.migrate import upgrade
    from services.settings import Settings

    upgrade(Settings(database_url=sync_url))


@contextmanager
def _database(backend: str, mariadb_url: str | None, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite+pysqlite:///{workdir / 'bench.db'}"
        return
    assert mariadb_url
    server_url = make_url(mariadb_url).set(drivername="mysql+pymysql", database=None)
    name = f"figway_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def _counter(engine: Engine) -> list[int]:
    count = [0]

    def before(*_args: Any) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    return count


def admin_cookie(sync_url: str) -> str:
    """`mvidarr_session=...` for a new live session row of the seeded admin: the write mix runs as a
    logged-in ADMIN (settings writes need one on the services, issue 15; legacy accepts it too)."""
    from datetime import datetime, timedelta

    from services.auth.flask_session import dump_session
    from services.settings import Settings

    token = uuid.uuid4().hex
    url = make_url(sync_url)
    if url.drivername in ("mysql+aiomysql", "mysql+asyncmy"):  # the round-trip count runs on an async URL
        url = url.set(drivername="mysql+pymysql")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            admin = conn.execute(text("SELECT id FROM users WHERE username = 'admin'")).scalar_one()
            now = datetime.now()
            conn.execute(
                text(
                    "INSERT INTO user_sessions (user_id, session_token, status, created_at, last_activity,"
                    " expires_at) VALUES (:u, :t, 'ACTIVE', :n, :n, :e)"
                ),
                {"u": admin, "t": token, "n": now, "e": now + timedelta(days=1)},
            )
    finally:
        engine.dispose()
    data = {"user_id": admin, "username": "admin", "session_token": token}
    return "mvidarr_session=" + dump_session(data, secret_key=Settings().secret_key.get_secret_value())


def legacy_queries(
    sync_url: str, requests: Sequence[tuple[str, str, Any]], *, reset: list[int] | None = None
) -> float:
    from legacy_flask.app import create_app

    app = create_app({"DATABASE_URL": sync_url})
    engine: Engine = app.extensions["figway_engine"]
    client = app.test_client()
    client.get("/api/settings/app_port")  # the settings cache loads once per process, not per request
    cookie = admin_cookie(sync_url)
    count = _counter(engine)
    if reset is not None:
        reset[0] = 0
    for method, path, body in requests:
        response = client.open(path, method=method, json=body, headers={"Cookie": cookie})
        assert response.status_code < 400, (path, response.status_code)
    engine.dispose()
    return count[0] / len(requests)


def services_queries(
    sync_url: str, requests: Sequence[tuple[str, str, Any]], *, reset: list[int] | None = None
) -> float:
    import httpx

    from services.app import create_app
    from services.settings import Settings

    app = create_app(Settings(database_url=sync_url))

    async def run() -> float:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await client.get("/api/settings/app_port")  # warm the login-guard setting cache
                cookie = admin_cookie(sync_url)
                count = _counter(app.state.engine.sync_engine)
                if reset is not None:
                    reset[0] = 0
                for method, path, body in requests:
                    response = await client.request(method, path, json=body, headers={"Cookie": cookie})
                    assert response.status_code < 400, (path, response.status_code)
                return count[0] / len(requests)

    return asyncio.run(run())


def _round_trips(kind: str) -> Iterator[list[int]]:
    """Count the MySQL protocol commands (queries, pings) the drivers send: one per round trip.
    pymysql (legacy) and aiomysql (the services, counted on the aiomysql driver: round trips are
    decided above the driver) each send every command through `_execute_command`."""
    if kind == "legacy":
        from pymysql.connections import Connection as Sync

        owner: Any = Sync
    else:
        from aiomysql.connection import Connection as Async

        owner = Async
    original = owner._execute_command
    count = [0]

    if kind == "legacy":

        def counted(self: Any, command: int, sql: Any) -> Any:
            count[0] += 1
            return original(self, command, sql)

    else:

        async def counted(self: Any, command: int, sql: Any) -> Any:  # type: ignore[misc]
            count[0] += 1
            return await original(self, command, sql)

    owner._execute_command = counted
    try:
        yield count
    finally:
        owner._execute_command = original


def count_round_trips(side: str, sync_url: str, requests: Sequence[tuple[str, str, Any]]) -> float:
    """Database round trips per request (MariaDB), or statements per request (SQLite)."""
    if not sync_url.startswith("mysql"):
        return (legacy_queries if side == "legacy" else services_queries)(sync_url, requests)
    counter = contextmanager(_round_trips)(side)
    if side == "legacy":
        with counter as count:
            legacy_queries(sync_url, requests, reset=count)
        return count[0] / len(requests)
    aiomysql_url = make_url(sync_url).set(drivername="mysql+aiomysql").render_as_string(hide_password=False)
    with counter as count:
        services_queries(aiomysql_url, requests, reset=count)
    return count[0] / len(requests)


SERVER_CPU_NOTE = f"taskset -c {SERVER_CPU}"


@contextmanager
def _legacy(sync_url: str, log: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    args = [
        str(Path(sys.executable).with_name("gunicorn")),
        "-w",
        "1",
        "--threads",
        "8",
        "-b",
        f"127.0.0.1:{port}",
        "legacy_flask.wsgi:app",
    ]
    with server(pinned(args, SERVER_CPU), port, env={"DATABASE_URL": sync_url}, log=log, cwd=ROOT) as proc:
        yield f"http://127.0.0.1:{port}", proc.pid


@contextmanager
def _services(
    sync_url: str, log: Path, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    port = free_port()
    args = [sys.executable, "-m", "services", "serve", "--port", str(port), "--workers", "1"]
    args.append("--no-access-log")
    side_env = {"DATABASE_URL": sync_url, "SERVICES_LOG_LEVEL": "warning", **(env or {})}
    with server(pinned(args, SERVER_CPU), port, env=side_env, log=log, cwd=cwd) as proc:
        yield f"http://127.0.0.1:{port}", proc.pid


@contextmanager
def _checkout(ref: str, workdir: Path) -> Iterator[Path]:
    """A detached worktree of `ref`: the services as they were, for a lever's before/after."""
    path = workdir / f"ref-{ref.replace('/', '_')}"
    subprocess.run(["git", "worktree", "add", "--detach", str(path), ref], cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False,
                       capture_output=True)  # fmt: skip


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_backend(
    backend: str,
    sync_url: str,
    seconds: int,
    rounds: int,
    workdir: Path,
    *,
    connections: int,
    baselines: Sequence[str],
    flames: bool,
    endpoints: Sequence[str],
) -> list[Row]:
    _say(f"bench db: seeding {backend}")
    _seed(sync_url)
    _migrate(sync_url)
    script = workdir / "writes.lua"
    script.write_text(WRITE_LUA.replace("COOKIE", admin_cookie(sync_url)))
    targets = {name: (path, None) for name, path in READ_ENDPOINTS.items() if _wanted(name, endpoints)}
    if _wanted(WRITE_MIX, endpoints):
        targets[WRITE_MIX] = ("/", script)
    trips: dict[tuple[str, str], float] = {}
    for side in ("legacy", "services"):
        for name, (path, lua) in targets.items():
            sample = write_sample(side) if lua is not None else [("GET", path, None)] * 5
            trips[(name, side)] = count_round_trips(side, sync_url, sample)
    with ExitStack() as stack:
        servers: dict[str, tuple[str, int]] = {
            "legacy": stack.enter_context(_legacy(sync_url, workdir / f"{backend}-legacy.log")),
            "services": stack.enter_context(_services(sync_url, workdir / f"{backend}-services.log")),
        }
        for ref in baselines:
            tree = stack.enter_context(_checkout(ref, workdir))
            servers[f"services@{ref}"] = stack.enter_context(
                _services(sync_url, workdir / f"{backend}-{ref}.log", cwd=tree)
            )
        pids = [pid for _, pid in servers.values()]
        for base, _pid in servers.values():  # warm-up: pools, caches, branch-warm code
            for path, lua in targets.values():
                wrk(base + path, connections, 2, script=lua, cpu=LOAD_CPU)

        def run(name: str, side: str) -> Sample:
            base, pid = servers[side]
            path, lua = targets[name]
            return measure(base + path, pid, connections, seconds, script=lua,
                           others=[p for p in pids if p != pid])  # fmt: skip

        cells = interleave(list(targets), list(servers), rounds, run)
        if flames:
            for name in targets:
                for side in ("legacy", "services"):
                    base, pid = servers[side]
                    path, lua = targets[name]
                    svg = RESULTS / f"flame-db-{backend}-{_slug(name)}-{side}.svg"
                    drain(pids)
                    with flame_graph(pid, svg, seconds):
                        wrk(base + path, connections, seconds, script=lua, cpu=LOAD_CPU)
                    _say(f"  flame graph {svg.name}")
    return [
        Row(backend, name, side, cell.summary(), trips.get((name, side), float("nan")))
        for (name, side), cell in cells.items()
    ]


def _trips(value: float) -> str:
    return "-" if value != value else f"{value:.2f}"  # NaN: a baseline ref, not counted


def _slug(name: str) -> str:
    return name.split(" (")[0].replace(" ", "-")


def _wanted(name: str, endpoints: Sequence[str]) -> bool:
    return not endpoints or _slug(name) in endpoints


def report(rows: list[Row], seconds: int, rounds: int, connections: int) -> str:
    loads = [float(r.summary["load_average"]) for r in rows]  # type: ignore[arg-type]
    lines = [
        "# Database endpoints: legacy (gunicorn 1x8 threads) vs services (uvicorn, 1 process)",
        "",
        f"`python -m bench db`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()},"
        f" {os.cpu_count()} CPUs shared with other work (load average {min(loads):.1f}-{max(loads):.1f}"
        f" during the cells). Each server pinned to CPU {SERVER_CPU} ({SERVER_CPU_NOTE}), wrk to CPU"
        f" {LOAD_CPU}; the database server is not pinned. wrk -c{connections}, {seconds} s per cell after"
        f" a 2 s warm-up, {rounds} interleaved rounds (side order alternating), every server drained"
        " (idle for 1 s) before each cell; figures are medians of the rounds. CPU ms/req is the"
        " server process tree's own CPU time (psutil) over the requests wrk completed: the figure"
        " that noise barely moves. Seed: legacy demo data at scale 1 (200 artists, 5,000 videos,"
        " 50 playlists). Round trips per request are counted in-process on the MySQL protocol"
        " (every query and ping the driver sends); on SQLite, SQL statements per request.",
        "",
        "| backend | endpoint | side | req/s | ratio | p50 ms | p99 ms | CPU ms/req | round trips/req"
        " | errors | load avg |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_key = {(r.backend, r.endpoint, r.side): r for r in rows}
    for r in rows:
        legacy = by_key.get((r.backend, r.endpoint, "legacy"))
        base = float(legacy.summary["requests_per_s"]) if legacy else 0.0  # type: ignore[arg-type]
        rps = float(r.summary["requests_per_s"])  # type: ignore[arg-type]
        ratio = f"{rps / base:.2f}x" if base and r.side != "legacy" else ""
        lines.append(
            f"| {r.backend} | {r.endpoint} | {r.side} | {rps:.0f} | {ratio} | {r.summary['p50_ms']} |"
            f" {r.summary['p99_ms']} | {r.summary['cpu_ms_per_request']} | {_trips(r.queries_per_request)} |"
            f" {r.summary['errors']} | {r.summary['load_average']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench db", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--backends", default="mariadb,sqlite")
    parser.add_argument(
        "--endpoints", default="", help="comma-separated: videos-list,videos-search,artists-list,write-mix"
    )
    parser.add_argument(
        "--baseline", action="append", default=[], help="also run the services of this git ref"
    )
    parser.add_argument("--no-flames", action="store_true", help="skip the py-spy flame graphs")
    parser.add_argument("--output", default="db", help="result file stem in bench/results")
    parser.add_argument("--mariadb-url", default=os.environ.get("FIGWAY_TEST_MARIADB_URL"))
    args = parser.parse_args(list(argv))
    backends = [b for b in args.backends.split(",") if b]
    if "mariadb" in backends and not args.mariadb_url:
        print(
            "bench db: no MariaDB (set FIGWAY_TEST_MARIADB_URL or --mariadb-url); SQLite only",
            file=sys.stderr,
        )
        backends.remove("mariadb")
    endpoints = [e for e in args.endpoints.split(",") if e]
    rows: list[Row] = []
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="figway-bench-db-", dir=_tmpfs()) as tmp:
        workdir = Path(tmp)
        for backend in backends:
            with _database(backend, args.mariadb_url, workdir) as url:
                rows += run_backend(
                    backend, url, args.seconds, args.rounds, workdir, connections=args.connections,
                    baselines=args.baseline, flames=not args.no_flames, endpoints=endpoints,
                )  # fmt: skip
    markdown = report(rows, args.seconds, args.rounds, args.connections)
    (RESULTS / f"{args.output}.md").write_text(markdown)
    (RESULTS / f"{args.output}.json").write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    print(markdown)
    return 0


def _tmpfs() -> str | None:
    # SQLite on this VM's disk pays ~50 ms per commit fsync: both sides would measure the disk.
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
