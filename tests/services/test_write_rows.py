"""The status and setting PUTs write with Core statements: the rows they leave are the ORM's.

Legacy (and the services' former ORM flush) leave: a video's `updated_at` touched only when its
status changes (an unchanged attribute is not flushed); a setting's value and `updated_at`
rewritten on every PUT, its description only when one is given, its id and `created_at` kept,
and a key the table lacks inserted; the key compared by the database's collation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from legacy_flask.seed import seed
from services.app import create_app
from services.settings import Settings
from tests.services._resource_support import live_session_cookie
from tests.support.databases import async_url, fresh_database
from tests.support.servers import uvicorn_thread

OLD = datetime(2001, 2, 3, 4, 5, 6)


@pytest.fixture
def seeded(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        seed(engine, scale=0.02)
    finally:
        engine.dispose()
    return database_url


@pytest.fixture
def admin(seeded: str) -> Iterator[httpx.Client]:
    app = create_app(Settings(database_url=async_url(seeded), settings_cache_ttl=0))
    cookie = live_session_cookie(seeded, "admin")
    with (
        uvicorn_thread(app) as server,
        httpx.Client(base_url=server.url, timeout=30, cookies={"mvidarr_session": cookie}) as client,
    ):
        yield client


def _later(value: Any) -> bool:
    """After OLD, whether the driver gives a datetime (MariaDB) or ISO text (SQLite)."""
    return str(value) > str(OLD)


def _sql(url: str, statement: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


def test_a_status_put_touches_updated_at_only_when_the_status_changes(
    seeded: str, admin: httpx.Client
) -> None:
    _sql(seeded, "UPDATE videos SET status = 'WANTED', updated_at = :old WHERE id = 3", old=OLD)
    before = _sql(seeded, "SELECT * FROM videos WHERE id = 3")[0]

    same = admin.put("/api/videos/3/status", json={"status": "wanted"})
    assert same.json()["message"] == "Video status updated from WANTED to WANTED"
    assert _sql(seeded, "SELECT * FROM videos WHERE id = 3")[0] == before

    changed = admin.put("/api/videos/3/status", json={"status": "FAILED"})
    assert changed.json() == {
        "success": True,
        "message": "Video status updated from WANTED to FAILED",
        "video_id": 3,
        "old_status": "WANTED",
        "new_status": "FAILED",
    }
    after = _sql(seeded, "SELECT * FROM videos WHERE id = 3")[0]._asdict()
    assert after["status"] == "FAILED"
    assert after["updated_at"] is not None and _later(after["updated_at"])
    unchanged = {k: v for k, v in before._asdict().items() if k not in ("status", "updated_at")}
    assert {k: after[k] for k in unchanged} == unchanged


def test_a_status_put_on_a_missing_video_writes_nothing(seeded: str, admin: httpx.Client) -> None:
    answer = admin.put("/api/videos/99999/status", json={"status": "WANTED"})
    assert (answer.status_code, answer.json()) == (404, {"error": "Video not found"})


def test_a_setting_put_rewrites_value_and_updated_at_and_keeps_the_rest(
    seeded: str, admin: httpx.Client
) -> None:
    _sql(
        seeded,
        "UPDATE settings SET updated_at = :old, description = 'Kept' WHERE `key` = 'language'",
        old=OLD,
    )
    (before,) = _sql(seeded, "SELECT id, created_at FROM settings WHERE `key` = 'language'")

    answer = admin.put("/api/settings/language", json={"value": "de"})
    assert answer.json() == {"key": "language", "value": "de", "description": None, "updated_at": "now"}
    row = _sql(seeded, "SELECT * FROM settings WHERE `key` = 'language'")[0]._asdict()
    assert (row["id"], row["created_at"], row["value"], row["description"]) == (*before, "de", "Kept")
    assert _later(row["updated_at"])

    admin.put("/api/settings/language", json={"value": True, "description": "New words"})
    row = _sql(seeded, "SELECT value, description FROM settings WHERE `key` = 'language'")[0]
    assert tuple(row) == ("true", "New words")


def test_a_setting_put_inserts_a_missing_key(seeded: str, admin: httpx.Client) -> None:
    answer = admin.put("/api/settings/brand_new", json={"value": ["a", 1]})
    assert answer.status_code == 200
    row = _sql(seeded, "SELECT * FROM settings WHERE `key` = 'brand_new'")[0]._asdict()
    assert (row["value"], row["description"]) == ('["a", 1]', None)
    assert row["created_at"] is not None and row["updated_at"] is not None


def test_a_masked_secret_written_back_keeps_the_stored_one(seeded: str, admin: httpx.Client) -> None:
    _sql(seeded, "UPDATE settings SET value = 'real-key' WHERE `key` = 'imvdb_api_key'")
    admin.put("/api/settings/imvdb_api_key", json={"value": "********"})
    assert _sql(seeded, "SELECT value FROM settings WHERE `key` = 'imvdb_api_key'")[0][0] == "real-key"


def test_a_setting_key_is_matched_by_the_database_collation(seeded: str, admin: httpx.Client) -> None:
    admin.put("/api/settings/LANGUAGE", json={"value": "fr"})
    rows = _sql(seeded, "SELECT `key`, value FROM settings WHERE lower(`key`) = 'language' ORDER BY id")
    if seeded.startswith("mysql"):  # utf8mb4_unicode_ci: one key, updated (legacy's query finds it)
        assert [tuple(r) for r in rows] == [("language", "fr")]
    else:  # SQLite compares bytes: a second key
        assert [tuple(r)[0] for r in rows] == ["language", "LANGUAGE"]


@pytest.fixture
def seeded_mariadb(tmp_path: Path) -> Iterator[str]:
    with fresh_database("mariadb", tmp_path) as url:
        engine = create_engine(url)
        try:
            seed(engine, scale=0.02)
        finally:
            engine.dispose()
        yield url


def test_single_statement_writes_send_no_commit_on_mariadb(seeded_mariadb: str) -> None:
    """The status and setting PUTs run on the autocommit engine (services.db, SINGLE_WRITE_KEY):
    the caller's session row, the statements themselves, and no COMMIT or ROLLBACK. (SQLite
    keeps its writer lock and transaction: `test_a_status_put_...` and the others cover it.)"""
    from aiomysql.connection import Connection

    seeded = seeded_mariadb

    url = make_url(seeded).set(drivername="mysql+aiomysql").render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url, settings_cache_ttl=60))
    cookie = {"mvidarr_session": live_session_cookie(seeded, "admin")}
    sent: list[str] = []
    original = Connection._execute_command

    async def counted(self: Any, command: int, sql: Any) -> Any:
        sent.append(
            "PING" if command == 0x0E else (sql.decode() if isinstance(sql, bytes) else sql).split()[0]
        )
        return await original(self, command, sql)

    Connection._execute_command = counted  # type: ignore[method-assign]
    try:
        with (
            uvicorn_thread(app) as server,
            httpx.Client(base_url=server.url, timeout=30, cookies=cookie) as client,
        ):
            client.put("/api/videos/4/status", json={"status": "IGNORED"})  # warm: pools, setting cache
            client.put("/api/settings/language", json={"value": "warm"})
            sent.clear()
            assert client.put("/api/videos/4/status", json={"status": "FAILED"}).status_code == 200
            status_trips = [c for c in sent if c != "SET"]
            sent.clear()
            assert client.put("/api/settings/language", json={"value": "de"}).status_code == 200
            setting_trips = [c for c in sent if c != "SET"]
    finally:
        Connection._execute_command = original  # type: ignore[method-assign]
    assert status_trips == ["SELECT", "SELECT", "UPDATE"]  # session row, status, UPDATE
    assert setting_trips == ["SELECT", "UPDATE"]
    assert _sql(seeded, "SELECT status FROM videos WHERE id = 4")[0][0] == "FAILED"
    assert _sql(seeded, "SELECT value FROM settings WHERE `key` = 'language'")[0][0] == "de"
