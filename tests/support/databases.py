"""Fresh, empty databases for tests, on SQLite and on MariaDB.

MariaDB is found through `FIGWAY_TEST_MARIADB_URL`, a server URL such as
`mysql+pymysql://figway:figway@127.0.0.1:3306/` whose user may create databases.
`.ci/run` sets it together with `FIGWAY_REQUIRE_MARIADB=1`: in CI a missing MariaDB is a
failure, never a skip. Locally, without the variable, MariaDB cases skip with a message.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

MARIADB_ENV = "FIGWAY_TEST_MARIADB_URL"
REQUIRE_ENV = "FIGWAY_REQUIRE_MARIADB"
BACKENDS = ("sqlite", "mariadb")


def mariadb_server_url() -> str | None:
    url = os.environ.get(MARIADB_ENV)
    if not url:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {MARIADB_ENV} is not set: MariaDB tests cannot run")
        pytest.skip(f"MariaDB not configured: set {MARIADB_ENV} to run this case (CI always does)")
    return url


@contextmanager
def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the sync SQLAlchemy URL of a new empty database; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite+pysqlite:///{tmp_path / 'figway.db'}"
        return
    server = make_url(mariadb_server_url() or "")
    name = f"figway_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.set(drivername="mysql+pymysql", database=None))
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    except Exception as exc:  # noqa: BLE001 - turned into a clear test failure
        admin.dispose()
        pytest.fail(f"MariaDB at {server.render_as_string(hide_password=True)} is unusable: {exc}")
    try:
        yield server.set(drivername="mysql+pymysql", database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


def async_url(sync_url: str) -> str:
    """The same database for the async services: aiosqlite / asyncmy (the services' default)."""
    url = make_url(sync_url)
    driver = {"sqlite+pysqlite": "sqlite+aiosqlite", "sqlite": "sqlite+aiosqlite"}.get(
        url.drivername, "mysql+asyncmy"
    )
    return url.set(drivername=driver).render_as_string(hide_password=False)
