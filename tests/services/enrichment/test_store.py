"""services/enrichment/store.py on real databases: the gate is sized to the pool, the SQLite
writer never queues behind readers for a connection, and on MariaDB a read and a write are
one statement each, with no COMMIT or ROLLBACK sent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select, update
from sqlalchemy.engine import make_url

from services.db import create_engine as create_services_engine
from services.db import create_read_engine
from services.enrichment.store import _ARTISTS as ARTISTS
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


@contextmanager
def _artists(backend: str, tmp_path: Path) -> Iterator[str]:
    with fresh_database(backend, tmp_path) as url:
        engine = create_engine(url)
        ARTISTS.create(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(ARTISTS),
                [
                    {"id": 1, "name": "One", "imvdb_id": None, "imvdb_metadata": {"a": "é"}, "genres": ["x"]},
                    {"id": 2, "name": "Two", "imvdb_id": "77", "imvdb_metadata": None, "genres": None},
                ],
            )
        engine.dispose()
        yield url


@pytest.fixture(params=["sqlite", "mariadb"])
def artists_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with _artists(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def mariadb_artists_url(tmp_path: Path) -> Iterator[str]:
    with _artists("mariadb", tmp_path) as url:
        yield url


async def test_raw_statements_read_and_write_what_the_core_ones_do(artists_url: str) -> None:
    await _raw_against_core(async_url(artists_url))


async def test_raw_statements_run_on_aiomysql_too(mariadb_artists_url: str) -> None:
    # aiomysql hands out its cursor as an awaitable: the raw path used to fail on it (500s).
    aiomysql = make_url(mariadb_artists_url).set(drivername="mysql+aiomysql")
    await _raw_against_core(aiomysql.render_as_string(hide_password=False))


async def _raw_against_core(url: str) -> None:
    settings = Settings(database_url=url, db_pool_size=2, max_in_flight=2)
    engine = create_services_engine(settings)
    read_engine = create_read_engine(settings, engine)
    raw = create_store(settings, engine, read_engine)
    core = create_store(settings, engine, read_engine, traced=True)
    try:
        assert raw.raw and not core.raw
        async with raw.reading() as a, core.reading() as b:
            for artist_id in (1, 2, 3):
                assert await raw.artist(a, artist_id) == await core.artist(b, artist_id)
            assert await raw.imvdb_holder(a, "77", 1) == await core.imvdb_holder(b, "77", 1) == 2
            assert await raw.imvdb_holder(a, "77", 2) is await core.imvdb_holder(b, "77", 2) is None
        values = {"spotify_id": "sp", "genres": ["a", "b"], "imvdb_metadata": {"x": "é", "n": 1.5}}
        async with raw.writing() as conn:
            assert await raw.update_artist(conn, 1, values) == 1
            assert await raw.update_artist(conn, 99, values) == 0
            await conn.commit()
        async with core.writing() as conn:
            assert await core.update_artist(conn, 2, values) == 1
            await conn.commit()
        async with core.reading() as conn:
            stored = (
                await conn.exec_driver_sql(
                    "SELECT spotify_id, genres, imvdb_metadata, updated_at >= created_at, length(updated_at)"
                    " FROM artists ORDER BY id"
                )
            ).all()
            one, two = await core.artist(conn, 1), await core.artist(conn, 2)
        assert stored[0] == stored[1]  # the same text in the columns, whichever path wrote it
        assert one is not None and two is not None
        assert (one.spotify_id, one.genres, one.imvdb_metadata) == (
            "sp",
            values["genres"],
            values["imvdb_metadata"],
        )
        assert one[3:] == two[3:] or (one.genres, one.imvdb_metadata) == (two.genres, two.imvdb_metadata)
    finally:
        await engine.dispose()
        await read_engine.dispose()


async def test_a_failed_raw_statement_never_returns_its_connection_to_the_pool(artists_url: str) -> None:
    settings = Settings(database_url=async_url(artists_url), db_pool_size=2, max_in_flight=2)
    engine = create_services_engine(settings)
    read_engine = create_read_engine(settings, engine)
    store = create_store(settings, engine, read_engine)
    try:
        async with store.writing() as conn:
            with pytest.raises(Exception, match="(?i)syntax"):
                await store._write(conn, "UPDATE artists SET WHERE", ())
            assert conn.invalidated
        async with store.reading() as conn:  # the pool still serves good connections
            assert (await store.artist(conn, 1)) is not None
    finally:
        await engine.dispose()
        await read_engine.dispose()
