"""`python -m bench db`: the database-bound endpoints, legacy (as deployed) against the services.

Legacy runs as deployed: gunicorn, 1 process, 8 threads (`legacy_flask.wsgi:app`). The
services run under uvicorn, 1 process. Both use the same database, seeded with legacy's
deterministic demo data (scale 1: 200 artists, 5,000 videos, 50 playlists), on MariaDB
(`FIGWAY_TEST_MARIADB_URL` or `--mariadb-url`) and on a SQLite file. wrk (c=64) drives:

- `GET /api/videos/?limit=50`, `GET /api/videos/search?q=Running`, `GET /api/artists/`
- a write mix (wrk Lua): video status changes, setting writes and video reads, as a logged-in
  ADMIN (settings writes need one on the services, issue 15; legacy accepts the same cookie).

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
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from bench._load import Load, server, wrk
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
    load: Load
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
    """`mvidarr_session=...` for a new live session row of the seeded admin (what a login gives)."""
    from datetime import datetime, timedelta

    from services.auth.flask_session import dump_session
    from services.settings import Settings

    token = uuid.uuid4().hex
    engine = create_engine(sync_url)
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


def legacy_queries(sync_url: str, requests: Sequence[tuple[str, str, Any]]) -> float:
    from legacy_flask.app import create_app

    app = create_app({"DATABASE_URL": sync_url})
    engine: Engine = app.extensions["figway_engine"]
    client = app.test_client()
    client.get("/api/settings/app_port")  # the settings cache loads once per process, not per request
    count = _counter(engine)
    cookie = admin_cookie(sync_url)
    for method, path, body in requests:
        response = client.open(path, method=method, json=body, headers={"Cookie": cookie})
        assert response.status_code < 400, (path, response.status_code)
    engine.dispose()
    return count[0] / len(requests)


def services_queries(sync_url: str, requests: Sequence[tuple[str, str, Any]]) -> float:
    import httpx

    from services.app import create_app
    from services.settings import Settings

    app = create_app(Settings(database_url=sync_url))

    async def run() -> float:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await client.get("/api/settings/app_port")  # warm the login-guard setting cache
                count = _counter(app.state.engine.sync_engine)
                cookie = admin_cookie(sync_url)
                for method, path, body in requests:
                    response = await client.request(method, path, json=body, headers={"Cookie": cookie})
                    assert response.status_code < 400, (path, response.status_code)
                return count[0] / len(requests)

    return asyncio.run(run())


@contextmanager
def _legacy(sync_url: str, log: Path) -> Iterator[str]:
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
    with server(args, port, env={"DATABASE_URL": sync_url}, log=log, cwd=ROOT):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def _services(sync_url: str, log: Path) -> Iterator[str]:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "services",
        "serve",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
    ]
    with server(
        args, port, env={"DATABASE_URL": sync_url, "SERVICES_LOG_LEVEL": "warning"}, log=log, cwd=ROOT
    ):
        yield f"http://127.0.0.1:{port}"


def _measure(base: str, path: str | None, seconds: int, script: Path | None) -> Load:
    url = base + (path or "/")
    wrk(url, 64, 2, script=script)  # warm-up: pools, caches, JIT-free but branch-warm
    return wrk(url, 64, seconds, script=script)


def _say(backend: str, side: str, name: str, load: Load) -> None:
    print(
        f"  {backend:7} {side:8} {name:28} {load.requests_per_s:8.0f} req/s p99 {load.p99_ms:7.1f} ms",
        flush=True,
    )


def run_backend(backend: str, sync_url: str, seconds: int, workdir: Path) -> list[Row]:
    print(f"bench db: seeding {backend}", flush=True)
    _seed(sync_url)
    _migrate(sync_url)
    script = workdir / "writes.lua"
    script.write_text(WRITE_LUA.replace("COOKIE", admin_cookie(sync_url)))
    rows: list[Row] = []
    for side, serve, count in (
        ("legacy", _legacy, legacy_queries),
        ("services", _services, services_queries),
    ):
        queries = {name: count(sync_url, [("GET", path, None)] * 5) for name, path in READ_ENDPOINTS.items()}
        queries[WRITE_MIX] = count(sync_url, write_sample(side))
        with serve(sync_url, workdir / f"{backend}-{side}.log") as base:
            for name, path in READ_ENDPOINTS.items():
                load = _measure(base, path, seconds, None)
                _say(backend, side, name, load)
                rows.append(Row(backend, name, side, load, queries[name]))
            load = _measure(base, None, seconds, script)
            _say(backend, side, "write mix", load)
            rows.append(Row(backend, WRITE_MIX, side, load, queries[WRITE_MIX]))
    return rows


def report(rows: list[Row], seconds: int) -> str:
    lines = [
        "# Database endpoints: legacy (gunicorn 1x8 threads) vs services (uvicorn, 1 process)",
        "",
        f"wrk -c64 -t2, {seconds}s per cell after a 2s warm-up; {platform.machine()}, {os.cpu_count()} CPUs"
        " shared by wrk, the server under test and the database. Seed: legacy demo data at scale 1"
        " (200 artists, 5,000 videos, 50 playlists).",
        "",
        "| backend | endpoint | legacy req/s | services req/s | ratio | legacy p50/p99 ms"
        " | services p50/p99 ms | queries/req legacy | queries/req services | errors (l/s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by_key = {(r.backend, r.endpoint, r.side): r for r in rows}
    for backend, endpoint in dict.fromkeys((r.backend, r.endpoint) for r in rows):
        old, new = by_key[(backend, endpoint, "legacy")], by_key[(backend, endpoint, "services")]
        ratio = new.load.requests_per_s / old.load.requests_per_s if old.load.requests_per_s else float("nan")
        lines.append(
            f"| {backend} | {endpoint} | {old.load.requests_per_s:.0f} | {new.load.requests_per_s:.0f} | "
            f"{ratio:.2f}x | {old.load.p50_ms:.1f} / {old.load.p99_ms:.1f} | {new.load.p50_ms:.1f} / "
            f"{new.load.p99_ms:.1f} | {old.queries_per_request:.2f} | {new.queries_per_request:.2f} | "
            f"{old.load.errors}/{new.load.errors} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench db", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--backends", default="mariadb,sqlite")
    parser.add_argument("--mariadb-url", default=os.environ.get("FIGWAY_TEST_MARIADB_URL"))
    args = parser.parse_args(list(argv))
    backends = [b for b in args.backends.split(",") if b]
    if "mariadb" in backends and not args.mariadb_url:
        print(
            "bench db: no MariaDB (set FIGWAY_TEST_MARIADB_URL or --mariadb-url); SQLite only",
            file=sys.stderr,
        )
        backends.remove("mariadb")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="figway-bench-db-") as tmp:
        workdir = Path(tmp)
        for backend in backends:
            with _database(backend, args.mariadb_url, workdir) as url:
                rows += run_backend(backend, url, args.seconds, workdir)
    RESULTS.mkdir(parents=True, exist_ok=True)
    markdown = report(rows, args.seconds)
    (RESULTS / "db.md").write_text(markdown)
    (RESULTS / "db.json").write_text(json.dumps([{**asdict(r)} for r in rows], indent=2) + "\n")
    print(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
