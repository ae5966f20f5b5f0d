"""The system under attack as real processes on loopback: database, legacy (gunicorn), services
(uvicorn), gateway (``python -m gateway serve``) and a controllable test upstream.

Every process is started in its own session, logs to a file, and is killed (SIGKILL for faults,
SIGTERM then SIGKILL at the end) by its own pid only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "reliability-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PY = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


@dataclass
class Server:
    """One server program: start, SIGKILL, restart on the same port."""

    name: str
    args: list[str]
    port: int
    log: Path
    env: Mapping[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for_port(self.port, timeout, self.proc)

    def kill(self) -> None:
        """SIGKILL the whole process group (workers included): a crash, not a shutdown."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def rss(self) -> int:
        return psutil.Process(self.pid).memory_info().rss

    def fds(self) -> int:
        return psutil.Process(self.pid).num_fds()

    def connections(self) -> int:
        """Open TCP sockets of the process (client side and upstream side)."""
        return len(psutil.Process(self.pid).net_connections(kind="tcp"))


def legacy_server(database_url: str, workdir: Path) -> Server:
    port = free_port()
    gunicorn = str(Path(PY).with_name("gunicorn"))
    args = [
        gunicorn,
        "-w",
        "2",
        "--threads",
        "4",
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "legacy_flask.wsgi:app",
    ]
    return Server("legacy", args, port, workdir / "legacy.log", {"DATABASE_URL": database_url})


def services_server(database_url: str, workdir: Path) -> Server:
    port = free_port()
    args = [PY, "-m", "services", "serve", "--port", str(port), "--workers", "1", "--no-access-log"]
    env = {"DATABASE_URL": database_url, "SERVICES_LOG_LEVEL": "warning"}
    return Server("services", args, port, workdir / "services.log", env)


def gateway_server(routing: Path, workdir: Path, **settings: str) -> Server:
    port = free_port()
    env = {
        "GATEWAY_ROUTING_FILE": str(routing),
        "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
        "GATEWAY_WATCH": "false",
        "GATEWAY_ACCESS_LOG": "false",
        "GATEWAY_LOG_LEVEL": "warning",
        "GATEWAY_STATE_DIR": str(workdir / "gateway-state"),
        **{f"GATEWAY_{key.upper()}": value for key, value in settings.items()},
    }
    args = [PY, "-m", "gateway", "serve", "--port", str(port)]
    return Server("gateway", args, port, workdir / "gateway.log", env)


def test_upstream(workdir: Path, name: str = "upstream") -> Server:
    port = free_port()
    args = [PY, "-m", "bench.reliability.upstream", "--port", str(port)]
    return Server(name, args, port, workdir / f"{name}.log")


@contextlib.contextmanager
def running(*servers: Server) -> Iterator[None]:
    try:
        for server in servers:
            server.start()
        yield
    finally:
        for server in reversed(servers):
            server.stop()


# -- the database ------------------------------------------------------------------------------


@contextlib.contextmanager
def database(backend: str, workdir: Path, mariadb_url: str | None = None) -> Iterator[str]:
    """A fresh seeded and migrated database (sync URL), dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite+pysqlite:///{workdir / 'reliability.db'}"
        prepare(url)
        yield url
        return
    if not mariadb_url:
        raise RuntimeError("MariaDB needs FIGWAY_TEST_MARIADB_URL")
    server = make_url(mariadb_url).set(drivername="mysql+pymysql", database=None)
    name = f"figway_rel_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server)
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        prepare(url)
        yield url
    finally:
        with contextlib.suppress(Exception), admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def prepare(url: str) -> None:
    from legacy_flask.seed import seed
    from services.migrate import upgrade
    from services.settings import Settings

    engine = create_engine(url)
    try:
        seed(engine, scale=0.1)
    finally:
        engine.dispose()
    upgrade(Settings(database_url=url))


def count_rows(url: str, sql: str, params: Mapping[str, object] | None = None) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), dict(params or {}))]
    finally:
        engine.dispose()


# -- the admin API ---------------------------------------------------------------------------


def admin_get(gateway: Server, path: str) -> dict[str, object]:
    response = httpx.get(f"{gateway.url}/_gateway/api/{path}", headers=ADMIN, timeout=10)
    response.raise_for_status()
    return dict(response.json())


def admin_reload(gateway: Server) -> tuple[int, dict[str, object]]:
    response = httpx.post(f"{gateway.url}/_gateway/api/reload", headers=ADMIN, timeout=30)
    return response.status_code, dict(response.json())
