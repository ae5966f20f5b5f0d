"""The services' SQLite layer: one worker trip per statement, serialised resource writes."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import OperationalError
from starlette.requests import Request

from services.app import create_app
from services.db import SqliteWriters
from services.db import create_engine as create_services_engine
from services.settings import Settings
from tests.services._resource_support import live_session_cookie, seeded_sqlite
from tests.support.databases import async_url

__all__ = ["seeded_sqlite"]

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True), Column("name", String(20)))


def _read_names(sync_url: str) -> list[str]:
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(select(things.c.name).order_by(things.c.id)))
    finally:
        engine.dispose()


async def test_sqlite_statements_return_rows_rowcounts_and_new_ids(sqlite_url: str) -> None:
    engine = create_services_engine(Settings(database_url=async_url(sqlite_url)))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            first = await conn.execute(insert(things).values(name="a"))
            await conn.execute(insert(things), [{"name": "b"}, {"name": "c"}])  # executemany
            changed = await conn.execute(update(things).where(things.c.name != "a").values(name="z"))
            rows = (await conn.execute(select(things.c.id, things.c.name).order_by(things.c.id))).all()
        assert first.inserted_primary_key == (1,)
        assert changed.rowcount == 2
        assert [tuple(r) for r in rows] == [(1, "a"), (2, "z"), (3, "z")]
        async with engine.connect() as conn:
            streamed = [r.name async for r in await conn.stream(select(things.c.name).order_by(things.c.id))]
        assert streamed == ["a", "z", "z"]
    finally:
        await engine.dispose()
    assert _read_names(sqlite_url) == ["a", "z", "z"]  # committed, seen by another connection


async def test_sqlite_rollback_discards_the_write_and_errors_are_dbapi_errors(sqlite_url: str) -> None:
    engine = create_services_engine(Settings(database_url=async_url(sqlite_url)))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with engine.connect() as conn:
            await conn.execute(insert(things).values(name="gone"))
            await conn.rollback()
            assert (await conn.execute(select(things.c.name))).all() == []  # a read: no transaction left open
            with pytest.raises(OperationalError):
                await conn.execute(text("SELEKT 1"))
    finally:
        await engine.dispose()
    assert _read_names(sqlite_url) == []


def test_sqlite_writers_serialise_only_resource_writes() -> None:
    def request(method: str, path: str) -> httpx.Request:
        return httpx.Request(method, f"http://t{path}")

    applies = SqliteWriters.applies
    assert applies(_starlette(request("PUT", "/api/videos/3/status")))
    assert applies(_starlette(request("POST", "/api/playlists/")))
    assert not applies(_starlette(request("GET", "/api/videos/3")))
    assert not applies(_starlette(request("POST", "/api/metadata-enrichment/enrich/3")))


def _starlette(request: httpx.Request) -> Request:
    return Request(
        {
            "type": "http",
            "method": request.method,
            "path": request.url.path,
            "query_string": b"",
            "headers": [],
        }
    )


@pytest.mark.parametrize("busy_timeout_ms", [10_000, 0])
async def test_concurrent_setting_and_status_writes_on_sqlite_all_succeed(
    seeded_sqlite: str, busy_timeout_ms: int
) -> None:
    # With no busy timeout, a write that met another one in SQLite would fail at once: every
    # write must have queued on the process's writer lock (the single-statement PUTs did not,
    # and spent up to 100 ms per retry in SQLite's busy handler: the write mix's p99).
    settings = Settings(
        database_url=async_url(seeded_sqlite), settings_cache_ttl=0, sqlite_busy_timeout_ms=busy_timeout_ms
    )
    app = create_app(settings)
    admin = {"mvidarr_session": live_session_cookie(seeded_sqlite, "admin")}  # settings writes need an admin
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://services", cookies=admin
        ) as client:
            answers = await asyncio.gather(
                *(client.put("/api/settings/bench_counter", json={"value": str(n)}) for n in range(24)),
                *(client.put("/api/videos/1/status", json={"status": "IGNORED"}) for _ in range(8)),
            )
            setting = await client.get("/api/settings/bench_counter")
            video = await client.get("/api/videos/1")
    assert [a.status_code for a in answers] == [200] * 32
    assert setting.json()["value"] in {str(n) for n in range(24)}
    assert video.json()["status"] == "IGNORED"


async def test_sqlite_ilike_matches_the_rows_lower_like_lower_matches(sqlite_url: str) -> None:
    names = ["ABC", "abc", "xAbCx", "Ébc", "ébc", "straße", "STRASSE", None]
    engine = create_services_engine(Settings(database_url=async_url(sqlite_url)))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(insert(things), [{"name": n} for n in names])
            for pattern in ["%abc%", "%ABC%", "%é%", "%É%", "%ss%", "%SS%", "x%", "%"]:
                fast = await conn.scalars(select(things.c.id).where(things.c.name.ilike(pattern)))
                slow = await conn.scalars(
                    select(things.c.id).where(func.lower(things.c.name).like(func.lower(pattern)))
                )
                assert sorted(fast) == sorted(slow), pattern
                rendered = str(
                    select(things.c.id).where(things.c.name.ilike(pattern)).compile(engine.sync_engine)
                )
                assert "lower(" not in rendered
    finally:
        await engine.dispose()
