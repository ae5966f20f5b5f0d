"""services/enrichment/store.py on real databases: the gate is sized to the pool, the SQLite
writer never queues behind readers for a connection, and on MariaDB a read and a write are
one statement each, with no COMMIT or ROLLBACK sent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select, update
from sqlalchemy.engine import make_url

from services.db import create_engine as create_services_engine
from services.db import create_read_engine
from services.enrichment.store import create_store
from services.settings import Settings
from tests.support.databases import async_url, fresh_database

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True), Column("name", String(20)))


def _database(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(backend, tmp_path) as url:
        engine = create_engine(url)
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(things), [{"name": "a"}, {"name": "b"}])
        engine.dispose()
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    yield from _database("sqlite", tmp_path)


@pytest.fixture
def mariadb_url(tmp_path: Path) -> Iterator[str]:
    yield from _database("mariadb", tmp_path)


async def test_sqlite_writer_gets_a_connection_while_readers_fill_their_gate(sqlite_url: str) -> None:
    sqlite = async_url(sqlite_url)
    settings = Settings(database_url=sqlite, db_pool_size=4, max_in_flight=4, db_max_overflow=0)
    engine = create_services_engine(settings)
    store = create_store(settings, engine, create_read_engine(settings, engine))
    try:
        assert store.write_lock is not None
        async with AsyncExitStack() as readers:
            for _ in range(3):  # the pool's 4 connections less the writer's
                conn = await readers.enter_async_context(store.reading())
                assert (await conn.execute(select(things.c.name).where(things.c.id == 1))).scalar() == "a"
            assert store.gate.locked()  # a fourth reader would wait here
            # Bounded only so that a regression fails instead of hanging the suite.
            async with asyncio.timeout(30), store.writing() as writer:
                await writer.execute(update(things).where(things.c.id == 2).values(name="w"))
                await writer.commit()
        async with store.reading() as conn:
            assert (await conn.execute(select(things.c.name).where(things.c.id == 2))).scalar() == "w"
    finally:
        await engine.dispose()


@pytest.fixture
def sent() -> Iterator[list[str]]:
    """Every MySQL protocol command aiomysql sends (one per round trip), by its SQL."""
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


async def test_mariadb_read_and_write_are_one_round_trip_each(mariadb_url: str, sent: list[str]) -> None:
    url = make_url(mariadb_url).set(drivername="mysql+aiomysql").render_as_string(hide_password=False)
    settings = Settings(database_url=url, db_pool_size=3, max_in_flight=3)
    engine = create_services_engine(settings)
    read_engine = create_read_engine(settings, engine)
    store = create_store(settings, engine, read_engine)
    try:
        assert store.write_lock is None and store.engine is read_engine
        async with store.reading():
            pass  # connect (and its session setup) outside the count
        sent.clear()
        async with store.reading() as conn:
            assert (await conn.execute(select(things.c.name).where(things.c.id == 1))).scalar() == "a"
        async with store.writing() as conn:
            await conn.execute(update(things).where(things.c.id == 1).values(name="z"))
            await conn.commit()
        assert [s.split()[0] for s in sent] == ["SELECT", "UPDATE"]
        async with store.reading() as conn:  # committed: visible to another connection
            assert (await conn.execute(select(things.c.name).where(things.c.id == 1))).scalar() == "z"
    finally:
        await engine.dispose()
        await read_engine.dispose()


async def test_mariadb_gate_admits_as_many_as_the_pool_holds(mariadb_url: str) -> None:
    settings = Settings(database_url=async_url(mariadb_url), db_pool_size=5, max_in_flight=2)
    engine = create_services_engine(settings)
    read_engine = create_read_engine(settings, engine)
    store = create_store(settings, engine, read_engine)
    try:
        async with AsyncExitStack() as held:
            for _ in range(5):
                await held.enter_async_context(store.reading())
            assert store.gate.locked()
            assert read_engine.sync_engine.pool.checkedout() == 5  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
        await read_engine.dispose()
