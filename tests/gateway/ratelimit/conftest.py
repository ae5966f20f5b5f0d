from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis import shared_redis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with shared_redis(Path(tmp_path_factory.mktemp("redis"))) as url:
        yield url


@pytest.fixture
def key_prefix() -> str:
    """A prefix of its own per test: tests never share (or leave behind) budgets."""
    return f"figway-test-{uuid.uuid4().hex[:12]}"
