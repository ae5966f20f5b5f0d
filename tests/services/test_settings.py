"""Settings: one DATABASE_URL serves both programs (sync names are turned into async ones)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.settings import ROOT, Settings, to_async_url, to_sync_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:////tmp/a.db", "sqlite+aiosqlite:////tmp/a.db"),
        ("sqlite+pysqlite:////tmp/a.db", "sqlite+aiosqlite:////tmp/a.db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite:///var/x.db", f"sqlite+aiosqlite:///{ROOT / 'var' / 'x.db'}"),
        ("mysql+pymysql://u:p%40ss@db:3306/figway", "mysql+asyncmy://u:p%40ss@db:3306/figway"),
        ("mysql://u:p@db/figway", "mysql+asyncmy://u:p@db/figway"),
        ("mariadb+pymysql://u:p@db/figway", "mysql+asyncmy://u:p@db/figway"),
        ("mysql+aiomysql://u:p@db/figway", "mysql+aiomysql://u:p@db/figway"),
        ("mysql+asyncmy://u:p@db/figway", "mysql+asyncmy://u:p@db/figway"),
    ],
)
def test_database_urls_are_converted_to_the_async_driver(given: str, expected: str) -> None:
    assert to_async_url(given) == expected
    assert Settings(database_url=given).database_url == expected


def test_the_sync_url_for_alembic_uses_pysqlite_or_pymysql() -> None:
    assert to_sync_url("sqlite+aiosqlite:////tmp/a.db") == "sqlite+pysqlite:////tmp/a.db"
    assert Settings(database_url="mysql+aiomysql://u:p@h/d").sync_database_url == "mysql+pymysql://u:p@h/d"
    assert Settings(database_url="mysql+asyncmy://u:p@h/d").sync_database_url == "mysql+pymysql://u:p@h/d"


def test_the_mysql_driver_is_asyncmy_unless_aiomysql_is_named() -> None:
    assert Settings(database_url="mysql+pymysql://u:p@h/d").mysql_driver == "asyncmy"
    assert Settings(database_url="mysql+aiomysql://u:p@h/d").mysql_driver == "aiomysql"


def test_an_unsupported_database_driver_fails_at_startup() -> None:
    with pytest.raises(ValidationError, match="unsupported database driver"):
        Settings(database_url="postgresql://u:p@h/d")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/env.db")
    monkeypatch.setenv("MVIDARR_SECRET_KEY", "s3cret")
    monkeypatch.setenv("SERVICES_PORT", "9123")
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:////tmp/env.db"
    assert settings.secret_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert (settings.port, settings.db_pool_size, settings.is_sqlite) == (9123, 3, True)


def test_the_default_database_is_the_file_legacy_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert Settings(_env_file=None).database_url == f"sqlite+aiosqlite:///{ROOT / 'var' / 'figway.db'}"  # type: ignore[call-arg]
