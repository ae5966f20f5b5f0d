"""Prepared statements answer as SQLAlchemy does, on the driver (MariaDB) and through the session
(SQLite, traced processes): same rows and values, same errors, same rows left behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Table, bindparam, create_engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from legacy_flask.seed import seed
from services._bounds import Unstorable
from services._driver import DRIVER_KEY, Prepared
from services.db import create_engine as create_async_engine
from services.db import create_sessionmaker, driver_statements
from services.models import Setting, Video, VideoStatus
from services.settings import Settings
from tests.support.databases import async_url, fresh_database

VIDEOS: Table = Video.__table__  # type: ignore[assignment]
SETTINGS: Table = Setting.__table__  # type: ignore[assignment]
DETAIL = select(VIDEOS.c.id, VIDEOS.c.status, VIDEOS.c.genres, VIDEOS.c.created_at, VIDEOS.c.title)
BY_ID = DETAIL.where(VIDEOS.c.id == bindparam("video_id"))
PAGE = DETAIL.order_by(VIDEOS.c.id).limit(3)
TITLED = DETAIL.where(VIDEOS.c.title == bindparam("title"))  # a LIMIT SQLAlchemy binds itself


@asynccontextmanager
async def _seeded(url: str, driver: str = "asyncmy") -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(url)
    try:
        seed(engine, scale=0.02)
    finally:
        engine.dispose()
    settings = Settings(database_url=async_url(url).replace("+asyncmy", f"+{driver}"))
    async_engine = create_async_engine(settings, autocommit=not settings.is_sqlite)
    try:
        yield create_sessionmaker(async_engine, driver=driver_statements(settings, traced=False))
    finally:
        await async_engine.dispose()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with _seeded(database_url) as made:
        yield made


@pytest.fixture
def mariadb_url(tmp_path: Path) -> AsyncIterator[str]:
    with fresh_database("mariadb", tmp_path) as url:
        yield url


def test_only_an_untraced_unechoed_mariadb_process_takes_the_driver_path() -> None:
    mariadb = Settings(database_url="mysql+asyncmy://u:p@db/x")
    assert driver_statements(mariadb, traced=False)
    assert not driver_statements(mariadb, traced=True)
    assert not driver_statements(
        Settings(database_url="mysql+asyncmy://u:p@db/x", db_echo=True), traced=False
    )
    assert not driver_statements(Settings(database_url="sqlite+aiosqlite:///x.db"), traced=False)


async def test_rows_are_what_the_session_reads(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        expected_one = (await session.execute(BY_ID, {"video_id": 3})).first()
        expected_page = (await session.execute(PAGE)).all()
        one = await Prepared(BY_ID).first(session, {"video_id": 3})
        page = await Prepared(PAGE).all(session)
        missing = await Prepared(BY_ID).first(session, {"video_id": 10**6})
    assert expected_one is not None
    assert tuple(one) == tuple(expected_one)
    assert isinstance(one.status, VideoStatus)  # the Enum's own result processor ran
    assert isinstance(one.created_at, datetime)
    assert one.title == expected_one.title  # by name, as on a Row
    assert [tuple(r) for r in page] == [tuple(r) for r in expected_page] and len(page) == 3
    assert missing is None


async def test_a_write_binds_values_through_the_column_types_and_counts_matched_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    set_status = Prepared(
        update(VIDEOS)
        .where(VIDEOS.c.id == bindparam("b_id"))
        .values(status=bindparam("status"), updated_at=bindparam("updated_at"))
    )
    when = datetime(2030, 1, 2, 3, 4, 5)
    async with sessions() as session, session.begin():
        matched = await set_status.write(
            session, {"b_id": 4, "status": VideoStatus.IGNORED, "updated_at": when, "title": "not a SET"}
        )
        none = await set_status.write(
            session, {"b_id": 10**6, "status": VideoStatus.IGNORED, "updated_at": when}
        )
    async with sessions() as session:
        row = (await session.execute(select(VIDEOS).where(VIDEOS.c.id == 4))).one()
    assert (matched, none) == (1, 0)
    assert row.status is VideoStatus.IGNORED and row.updated_at == when
    assert row.title != "not a SET"  # a key that is no parameter of the statement never becomes a SET


def test_a_statement_whose_values_come_from_column_defaults_is_refused() -> None:
    from sqlalchemy.dialects import mysql

    touch = Prepared(update(VIDEOS).where(VIDEOS.c.id == 1).values(status=bindparam("status")))
    with pytest.raises(TypeError, match="binds every value"):
        touch.render(mysql.dialect())  # `updated_at` would be the column's onupdate


async def test_driver_errors_are_sqlalchemys_and_the_connection_stays_usable(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    add = Prepared(
        insert(SETTINGS).values(
            key=bindparam("key"),
            value=bindparam("value"),
            created_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
    )
    now = datetime(2030, 1, 1)
    async with sessions() as session, session.begin():
        assert await add.write(session, {"key": "driver_test", "value": "1", "now": now}) == 1
        with pytest.raises(IntegrityError):
            await add.write(session, {"key": "driver_test", "value": "2", "now": now})
        with pytest.raises(Unstorable):  # the bounds guard runs on every statement
            await Prepared(TITLED).first(session, {"title": "lone \udc80 surrogate"})
        assert (await Prepared(BY_ID).first(session, {"video_id": 3})) is not None


async def test_aiomysql_takes_the_same_path(mariadb_url: str) -> None:
    async with _seeded(mariadb_url, driver="aiomysql") as sessions, sessions() as session:
        assert session.info[DRIVER_KEY]
        assert type(session.bind.dialect).__name__ == "MySQLDialect_aiomysql"
        one = await Prepared(BY_ID).first(session, {"video_id": 3})
        expected = (await session.execute(BY_ID, {"video_id": 3})).first()
    assert one is not None and expected is not None and tuple(one) == tuple(expected)


@pytest.mark.parametrize("driver", ["asyncmy", "aiomysql"])
async def test_a_connection_lost_under_a_statement_is_never_pooled_again(
    mariadb_url: str, driver: str
) -> None:
    async with _seeded(mariadb_url, driver) as sessions:
        await _kill_and_recover(sessions, mariadb_url)


async def _kill_and_recover(sessions: async_sessionmaker[AsyncSession], database_url: str) -> None:
    async with sessions() as session:
        assert session.info[DRIVER_KEY]
        (connection_id,) = await Prepared(select(text("CONNECTION_ID()"))).first(session)
        killer = create_engine(database_url)
        try:
            with killer.connect() as conn:
                conn.execute(text(f"KILL {int(connection_id)}"))
        finally:
            killer.dispose()
        with pytest.raises(OperationalError) as lost:
            await Prepared(BY_ID).first(session, {"video_id": 3})
        assert lost.value.connection_invalidated
    async with sessions() as session:
        (fresh,) = await Prepared(select(text("CONNECTION_ID()"))).first(session)
        assert fresh != connection_id
        assert (await Prepared(BY_ID).first(session, {"video_id": 3})) is not None


async def test_parameters_pass_the_guard_every_statement_passes(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    set_quality = Prepared(
        update(VIDEOS)
        .where(VIDEOS.c.id == bindparam("b_id"))
        .values(quality=bindparam("quality"), updated_at=bindparam("updated_at"))
    )
    when = datetime(2030, 1, 1)
    big = 10**30
    async with sessions() as session, session.begin():
        if database_url.startswith("sqlite"):  # sqlite3 binds neither (legacy: 500): the client's 400
            with pytest.raises(Unstorable):
                await set_quality.write(session, {"b_id": 5, "quality": big, "updated_at": when})
            return
        # MariaDB: bound as legacy's PyMySQL writes them (services/_bounds.py, bind_singles)
        await set_quality.write(session, {"b_id": 5, "quality": big, "updated_at": when})
        await set_quality.write(session, {"b_id": 6, "quality": ["720p"], "updated_at": when})
    async with sessions() as session:
        stored = (
            await session.execute(text("SELECT id, quality FROM videos WHERE id IN (5, 6) ORDER BY id"))
        ).all()
    assert [tuple(r) for r in stored] == [(5, str(big)), (6, "720p")]
