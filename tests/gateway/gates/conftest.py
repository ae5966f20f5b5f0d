from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis import shared_redis


@pytest.fixture(scope="session")
def gates_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with shared_redis(Path(tmp_path_factory.mktemp("redis"))) as url:
        yield url


@pytest.fixture
def state_prefix() -> str:
    """Keys of their own per test: replicas of one test share them, tests never do."""
    return f"figway-gates-test-{uuid.uuid4().hex[:12]}"
