"""A throwaway redis-server for tests: own port, own temp directory, no persistence.

Missing ``redis-server`` skips the test locally and fails it when ``FIGWAY_REQUIRE_REDIS=1`` (CI).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import free_port, wait_for_port


def redis_server_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("FIGWAY_REQUIRE_REDIS") == "1":
            pytest.fail(message + " and FIGWAY_REQUIRE_REDIS=1")
        pytest.skip(message)
    return found


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """Run redis-server on a free loopback port; yields its ``redis://`` URL."""
    binary = redis_server_binary()
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--protected-mode",
            "yes",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=20)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


#: The machine's Redis (CI and the dev box run one); a throwaway redis-server when it is not there.
SHARED_REDIS = os.environ.get("FIGWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _answers(url: str) -> bool:
    host, _, port = url.split("//", 1)[1].split("/", 1)[0].rpartition(":")
    with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=0.5):
        return True
    return False


@contextlib.contextmanager
def shared_redis(directory: Path) -> Iterator[str]:
    """The machine's Redis when it answers, else a throwaway one in ``directory``; tests that share
    it keep to key prefixes of their own."""
    if _answers(SHARED_REDIS):
        yield SHARED_REDIS
        return
    with redis_server(directory) as url:
        yield url
