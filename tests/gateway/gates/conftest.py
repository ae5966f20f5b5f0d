from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis import redis_server

#: The machine's Redis (CI and the dev box run one); a throwaway redis-server when it is not there.
SHARED_REDIS = os.environ.get("FIGWAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _answers(url: str) -> bool:
    host, _, port = url.split("//", 1)[1].split("/", 1)[0].rpartition(":")
    with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=0.5):
        return True
    return False


@pytest.fixture(scope="session")
def gates_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if _answers(SHARED_REDIS):
        yield SHARED_REDIS
        return
    with redis_server(Path(tmp_path_factory.mktemp("redis"))) as url:
        yield url


@pytest.fixture
def state_prefix() -> str:
    """Keys of their own per test: replicas of one test share them, tests never do."""
    return f"figway-gates-test-{uuid.uuid4().hex[:12]}"
