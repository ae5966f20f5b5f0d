"""services/_mysql.py on a real MariaDB: one round trip per read, COMMIT only when a transaction
is open, and an idle connection the server dropped replaced at checkout instead of failing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services import _mysql
from services.db import create_engine as create_services_engine
from services.db import create_read_engine
from services.settings import Settings
from tests.support.databases import fresh_database

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True), Column("name", String(20)))


@pytest.fixture
def mariadb_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("mariadb", tmp_path) as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(things), [{"name": "a"}, {"name": "b"}])
        engine.dispose()
        yield url


def _settings(url: str, driver: str, **extra: Any) -> Settings:
    async_url = make_url(url).set(drivername=f"mysql+{driver}").render_as_string(hide_password=False)
    return Settings(database_url=async_url, db_pool_size=1, db_max_overflow=0, **extra)


@pytest.fixture
def sent() -> Iterator[list[str]]:
    """Every MySQL protocol command aiomysql sends (one per round trip), by its SQL or `PING`."""
    from aiomysql.connection import Connection

    original = Connection._execute_command
    commands: list[str] = []

    async def counted(self: Any, command: int, sql: Any) -> Any:
        commands.append("PING" if command == 0x0E else str(sql, "utf-8") if isinstance(sql, bytes) else sql)
        return await original(self, command, sql)

    Connection._execute_command = counted  # type: ignore[method-assign]
    try:
        yield commands
    finally:
        Connection._execute_command = original  # type: ignore[method-assign]


async def _session_counters(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SHOW SESSION STATUS WHERE Variable_name IN ('Com_commit', 'Com_rollback')")
        )
        return {name: int(value) for name, value in rows}


async def test_a_read_on_the_read_engine_is_one_round_trip(mariadb_url: str, sent: list[str]) -> None:
    settings = _settings(mariadb_url, "aiomysql")
    engine = create_services_engine(settings)
    reads = create_read_engine(settings, engine)
    try:
        for _ in range(2):  # the second checkout reuses the pooled connection
            async with reads.connect() as conn:
                names = list(await conn.scalars(select(things.c.name).order_by(things.c.id)))
            assert names == ["a", "b"]
        sent.clear()
        async with reads.connect() as conn, conn.begin():
            await conn.execute(select(things.c.name))
        assert [c for c in sent if not c.startswith("SET")] == ["SELECT things.name \nFROM things"]
    finally:
        await reads.dispose()
        await engine.dispose()


async def test_a_write_sends_its_statement_and_one_commit(mariadb_url: str, sent: list[str]) -> None:
    engine = create_services_engine(_settings(mariadb_url, "aiomysql"))
    try:
        async with engine.begin() as conn:  # connect (and its setup queries) outside the count
            await conn.execute(select(1))
        sent.clear()
        async with engine.begin() as conn:
            await conn.execute(insert(things).values(name="c"))
        assert [c.split(" ")[0] for c in sent] == ["INSERT", "COMMIT"]  # no ping, no ROLLBACK after
    finally:
        await engine.dispose()
    check = create_engine(mariadb_url)
    with check.connect() as conn:
        assert list(conn.scalars(select(things.c.name).order_by(things.c.id))) == ["a", "b", "c"]
    check.dispose()


@pytest.mark.parametrize("driver", _mysql.DRIVERS)
async def test_reads_send_no_commit_or_rollback_and_writes_commit(mariadb_url: str, driver: str) -> None:
    settings = _settings(mariadb_url, driver)
    engine = create_services_engine(settings)
    reads = create_read_engine(settings, engine)
    try:
        before = await _session_counters(reads)
        for _ in range(3):
            async with reads.connect() as conn, conn.begin():
                assert len((await conn.execute(select(things.c.id))).all()) == 2
        assert await _session_counters(reads) == before  # the same pooled connection (pool of 1)
        written_before = await _session_counters(engine)
        async with engine.begin() as conn:
            await conn.execute(insert(things).values(name=driver[:20]))
        written_after = await _session_counters(engine)
        assert written_after["Com_commit"] == written_before["Com_commit"] + 1
        assert written_after["Com_rollback"] == written_before["Com_rollback"]
        async with engine.connect() as conn:  # a read rolled back on error is still rolled back
            await conn.execute(insert(things).values(name="never"))
            await conn.rollback()
        async with reads.connect() as conn:
            names = list(await conn.scalars(select(things.c.name)))
        assert driver[:20] in names and "never" not in names
    finally:
        await reads.dispose()
        await engine.dispose()


@pytest.mark.parametrize("driver", _mysql.DRIVERS)
async def test_an_idle_connection_the_server_dropped_is_replaced_at_checkout(
    mariadb_url: str, driver: str
) -> None:
    engine = create_services_engine(_settings(mariadb_url, driver, db_ping_after_idle=0))
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(text("SELECT CONNECTION_ID()"))).scalar_one()
        admin = create_engine(mariadb_url)
        with admin.connect() as conn:
            conn.execute(text(f"KILL CONNECTION {int(first)}"))
        admin.dispose()
        async with engine.connect() as conn:  # pinged, found dead, replaced: no error here
            second = (await conn.execute(text("SELECT CONNECTION_ID()"))).scalar_one()
            assert len((await conn.execute(select(things.c.id))).all()) == 2
        assert second != first
    finally:
        await engine.dispose()


def test_an_unknown_driver_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown MySQL driver"):
        _mysql.dbapi("mysqlclient")
