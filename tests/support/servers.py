"""Real servers for tests: uvicorn in a background thread, or any program in a subprocess.

Tests that exercise sockets start real servers through these helpers instead of mocking
transports, as the developers' guide asks.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout}s")


@dataclass
class RunningServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _ThreadedUvicorn(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # signals belong to the test process
        pass


@contextlib.contextmanager
def uvicorn_thread(app: Any, *, port: int | None = None, **config: Any) -> Iterator[RunningServer]:
    """Serve an ASGI app with uvicorn in a daemon thread for the duration of the block."""
    port = port or free_port()
    config.setdefault("log_level", "warning")
    config.setdefault("lifespan", "on")
    server = _ThreadedUvicorn(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn test server did not start")
        time.sleep(0.01)
    try:
        yield RunningServer("127.0.0.1", port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def wsgi_thread(app: Any, *, port: int | None = None, threaded: bool = True) -> Iterator[RunningServer]:
    """Serve a WSGI app (the legacy Flask app) with werkzeug in a daemon thread."""
    from werkzeug.serving import make_server

    port = port or free_port()
    server = make_server("127.0.0.1", port, app, threaded=threaded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningServer("127.0.0.1", port)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextlib.contextmanager
def subprocess_server(
    args: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    startup_timeout: float = 60.0,
) -> Iterator[tuple[RunningServer, subprocess.Popen[bytes]]]:
    """Run a server program as a child process; stop it (SIGTERM, then SIGKILL) afterwards."""
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    proc = subprocess.Popen(list(args), cwd=cwd, env=full_env, start_new_session=True)
    try:
        try:
            wait_for_port(port, timeout=startup_timeout)
        except TimeoutError:
            raise RuntimeError(f"{args!r} did not start listening on {port} (exit={proc.poll()})") from None
        yield RunningServer("127.0.0.1", port), proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def python_module(module: str, *args: str) -> list[str]:
    """Argument list that runs `python -m module args...` with this interpreter."""
    return [sys.executable, "-m", module, *args]
