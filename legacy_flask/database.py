"""Engine and session factory for the legacy app: sync SQLAlchemy, QueuePool, as MVidarr runs.

`DATABASE_URL` may name the async driver the services use (`sqlite+aiosqlite`,
`mysql+aiomysql`); the legacy app swaps in its sync twin so one variable can serve both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from legacy_flask.models import Base

_SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite+pysqlite",
    "sqlite": "sqlite+pysqlite",
    "mysql+aiomysql": "mysql+pymysql",
    "mysql": "mysql+pymysql",
    "mariadb+aiomysql": "mysql+pymysql",
    "mariadb+pymysql": "mysql+pymysql",
}


def sync_url(url: str) -> str:
    parsed = make_url(url)
    driver = _SYNC_DRIVERS.get(parsed.drivername, parsed.drivername)
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL and a busy timeout let the legacy app and the services write the same file.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    url = sync_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_recycle=3600,
        pool_pre_ping=True,
    )


def init_db(engine: Engine) -> None:
    """Create every table the legacy app owns (idempotent)."""
    Base.metadata.create_all(engine)


def make_session_factory(engine: Engine) -> scoped_session[Session]:
    return scoped_session(sessionmaker(bind=engine, expire_on_commit=False))
