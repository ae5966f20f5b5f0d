from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.contract.harness import Pair, prepare_database, serve_pair
from tests.support.databases import fresh_database


def _backend(url: str) -> str:
    return "sqlite" if make_url(url).drivername.startswith("sqlite") else "mariadb"


@pytest.fixture
def twin_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh database on the same backend as `database_url`."""
    twin_dir = tmp_path / "twin"
    twin_dir.mkdir()
    with fresh_database(_backend(database_url), twin_dir) as url:
        yield url


@pytest.fixture
def pair(database_url: str, twin_url: str) -> Iterator[Pair]:
    """Legacy on one seeded database, services on its identical twin."""
    prepare_database(database_url)
    prepare_database(twin_url)
    with serve_pair(database_url, twin_url) as both:
        yield both


@pytest.fixture
def shared_pair(database_url: str) -> Iterator[Pair]:
    """Legacy and services over ONE seeded database (for write-here, read-there tests)."""
    prepare_database(database_url)
    with serve_pair(database_url, database_url) as both:
        yield both
