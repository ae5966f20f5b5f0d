"""Graceful shutdown of the real programs: SIGTERM while a slow request is in flight.

The in-flight answer arrives whole, the listening socket is closed at once (new connections are
refused), and the program runs its shutdown (pools closed) and exits cleanly (uvicorn re-raises
SIGTERM after a clean stop, so the status is 0 or -15).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.support.servers import ROOT, free_port, uvicorn_thread, wait_for_port

CHUNKS = 50
CHUNK = b"x" * 1000
CHUNK_TOTAL = CHUNKS * len(CHUNK)


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def wait_until(condition: object, what: str, timeout: float = 20.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@contextlib.contextmanager
def program(args: list[str], port: int, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=out, stderr=out
        )
        try:
            wait_for_port(port, timeout=60)
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


class SlowUpstream:
    """Sends half the body, waits for the test to open the gate, then sends the rest."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()

    def app(self) -> Starlette:
        async def slow(request: Request) -> StreamingResponse:
            async def body() -> object:
                import asyncio

                for index in range(CHUNKS):
                    if index == CHUNKS // 2:
                        self.entered.set()
                        while not self.gate.is_set():
                            await asyncio.sleep(0.01)
                    yield CHUNK

            return StreamingResponse(body(), media_type="application/octet-stream")  # type: ignore[arg-type]

        return Starlette(routes=[Route("/slow", slow)])


def test_gateway_sigterm_lets_the_in_flight_request_finish(tmp_path: Path) -> None:
    upstream = SlowUpstream()
    with uvicorn_thread(upstream.app()) as backend:
        routing = tmp_path / "routing.yaml"
        routing.write_text(
            f"version: 1\nupstreams:\n  legacy: {{url: '{backend.url}'}}\ndefault: legacy\nroutes: []\n"
        )
        port = free_port()
        args = [sys.executable, "-m", "gateway", "serve", "--config", str(routing), "--port", str(port)]
        env = {"GATEWAY_WATCH": "false", "GATEWAY_LOG_FORMAT": "console"}
        result: dict[str, object] = {}

        def fetch() -> None:
            with httpx.stream("GET", f"http://127.0.0.1:{port}/slow", timeout=60) as answer:
                result["status"] = answer.status_code
                result["body"] = answer.read()

        with program(args, port, env, tmp_path / "gateway.log") as proc:
            client = threading.Thread(target=fetch)
            client.start()
            assert upstream.entered.wait(30)
            proc.send_signal(signal.SIGTERM)
            wait_until(lambda: refused(port), "the listening socket to close")
            assert proc.poll() is None  # still finishing the in-flight request
            upstream.gate.set()
            client.join(30)
            assert proc.wait(timeout=30) in (
                0,
                -signal.SIGTERM,
            )  # uvicorn re-raises the signal after a clean stop
    log = (tmp_path / "gateway.log").read_text()
    assert result == {"status": 200, "body": CHUNK * CHUNKS}
    assert "Waiting for connections to close" in log or "Shutting down" in log
    assert "Application shutdown complete" in log


def test_services_sigterm_lets_the_in_flight_request_finish(tmp_path: Path) -> None:
    # /api/health/system runs `uptime` through the services' command runner: a stand-in on PATH
    # announces it started, then waits for the test.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    started, release = tmp_path / "started", tmp_path / "release"
    uptime = bin_dir / "uptime"
    uptime.write_text(
        "#!/bin/sh\n"
        f"touch '{started}'\n"
        f"while [ ! -f '{release}' ]; do sleep 0.02; done\n"
        "echo ' 10:00:00 up 1 day,  2:00,  1 user,  load average: 0.10, 0.20, 0.30'\n"
    )
    uptime.chmod(0o755)
    port = free_port()
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'figway.db'}",
        "SYSTEM_COMMAND_TIMEOUT": "60",
    }
    args = [sys.executable, "-m", "services", "serve", "--port", str(port)]
    result: dict[str, object] = {}

    def fetch() -> None:
        answer = httpx.get(f"http://127.0.0.1:{port}/api/health/system", timeout=60)
        result["status"] = answer.status_code
        result["body"] = answer.json()

    with program(args, port, env, tmp_path / "services.log") as proc:
        client = threading.Thread(target=fetch)
        client.start()
        wait_until(started.exists, "the slow command to start")
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: refused(port), "the listening socket to close")
        assert proc.poll() is None
        release.touch()
        client.join(30)
        assert proc.wait(timeout=30) in (
            0,
            -signal.SIGTERM,
        )  # uvicorn re-raises the signal after a clean stop
    assert result["status"] == 200
    body = result["body"]
    assert isinstance(body, dict)
    assert body["load"]["available"] is True, json.dumps(body)
    assert "Application shutdown complete" in (tmp_path / "services.log").read_text()


def test_gateway_shutdown_is_bounded_by_shutdown_timeout(tmp_path: Path) -> None:
    upstream = SlowUpstream()  # the gate never opens: the request would hang forever
    with uvicorn_thread(upstream.app()) as backend:
        routing = tmp_path / "routing.yaml"
        routing.write_text(
            f"version: 1\nupstreams:\n  legacy: {{url: '{backend.url}'}}\ndefault: legacy\nroutes: []\n"
        )
        port = free_port()
        args = [sys.executable, "-m", "gateway", "serve", "--config", str(routing), "--port", str(port)]
        env = {"GATEWAY_WATCH": "false", "GATEWAY_SHUTDOWN_TIMEOUT": "1", "GATEWAY_LOG_FORMAT": "console"}
        result: dict[str, object] = {}

        def fetch() -> None:
            try:
                with httpx.stream("GET", f"http://127.0.0.1:{port}/slow", timeout=60) as answer:
                    result["body"] = answer.read()
            except httpx.HTTPError as exc:
                result["error"] = type(exc).__name__

        with program(args, port, env, tmp_path / "gateway.log") as proc:
            client = threading.Thread(target=fetch)
            client.start()
            assert upstream.entered.wait(30)
            proc.send_signal(signal.SIGTERM)
            # Exits although the request never finishes; the client sees a cut-off answer.
            assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
            client.join(30)
        upstream.gate.set()
    assert "error" in result or len(result.get("body", b"")) < CHUNK_TOTAL  # type: ignore[arg-type]


def test_services_shutdown_is_bounded_by_services_shutdown_timeout(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    started, release = tmp_path / "started", tmp_path / "release"
    uptime = bin_dir / "uptime"
    # Never answers within the shutdown bound; the test releases it at the end (no stray process).
    uptime.write_text(f"#!/bin/sh\ntouch '{started}'\nwhile [ ! -f '{release}' ]; do sleep 0.05; done\n")
    uptime.chmod(0o755)
    port = free_port()
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'figway.db'}",
        "SYSTEM_COMMAND_TIMEOUT": "120",
        "SERVICES_SHUTDOWN_TIMEOUT": "1",
    }
    args = [sys.executable, "-m", "services", "serve", "--port", str(port)]
    errors: list[str] = []

    def fetch() -> None:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/health/system", timeout=60)
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)

    with program(args, port, env, tmp_path / "services.log") as proc:
        client = threading.Thread(target=fetch)
        client.start()
        wait_until(started.exists, "the slow command to start")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
        client.join(30)
    release.touch()
    assert errors  # the request was cut off instead of holding the shutdown
