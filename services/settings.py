"""Configuration of the services program: one `Settings`, read once from env / `.env`.

Every other module receives a `Settings` instance (through `create_app(settings)` or
`request.app.state.settings`); nothing else reads `os.environ`.

`DATABASE_URL` is shared with the legacy app, so it accepts the sync driver names legacy uses
(`sqlite://`, `sqlite+pysqlite://`, `mysql+pymysql://`) and converts them to their async twins.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{ROOT / 'var' / 'figway.db'}"
# The legacy app's development key (legacy_flask/config.py); production sets MVIDARR_SECRET_KEY.
DEFAULT_SECRET_KEY = "mvidarr-dev-secret-key-change-me"  # noqa: S105 - dev default, as legacy
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "mysql": "mysql+aiomysql",
    "mysql+pymysql": "mysql+aiomysql",
    "mysql+aiomysql": "mysql+aiomysql",
    "mariadb": "mysql+aiomysql",
    "mariadb+pymysql": "mysql+aiomysql",
    "mariadb+aiomysql": "mysql+aiomysql",
}
_SYNC_DRIVERS = {"sqlite+aiosqlite": "sqlite+pysqlite", "mysql+aiomysql": "mysql+pymysql"}


def to_async_url(url: str) -> str:
    """The async-driver form of a database URL; relative SQLite paths are taken from the repo root."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(f"unsupported database driver {parsed.drivername!r}: use sqlite or mysql")
    parsed = parsed.set(drivername=driver)
    if driver.startswith("sqlite") and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.is_absolute():
            parsed = parsed.set(database=str(ROOT / path))
    return parsed.render_as_string(hide_password=False)


def to_sync_url(url: str) -> str:
    """The sync-driver form (pysqlite / pymysql) of an async URL, for Alembic."""
    parsed = make_url(to_async_url(url))
    return parsed.set(drivername=_SYNC_DRIVERS[parsed.drivername]).render_as_string(hide_password=False)


class Settings(BaseSettings):
    """Every setting of the services program. Field names are the env var names (case-insensitive)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    db_pool_recycle: int = Field(default=3600, ge=1)  # seconds before a MariaDB connection is replaced
    db_pool_timeout: float = Field(default=30.0, gt=0)
    db_echo: bool = False
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    # How long the services trust a cached setting (the login guard reads one per request).
    settings_cache_ttl: float = Field(default=2.0, ge=0)

    # The legacy Flask secret: signs the `mvidarr_session` cookie both programs accept.
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET_KEY),
        validation_alias=AliasChoices("MVIDARR_SECRET_KEY", "SECRET_KEY"),
    )
    session_cookie_name: str = "mvidarr_session"
    session_lifetime_seconds: int = Field(default=24 * 3600, ge=1)

    host: str = Field(default=DEFAULT_HOST, validation_alias=AliasChoices("SERVICES_HOST"))
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535, validation_alias=AliasChoices("SERVICES_PORT"))
    workers: int = Field(default=1, ge=1, validation_alias=AliasChoices("SERVICES_WORKERS"))
    log_level: str = Field(default="info", validation_alias=AliasChoices("SERVICES_LOG_LEVEL", "LOG_LEVEL"))

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return to_async_url(value)

    @property
    def sync_database_url(self) -> str:
        return to_sync_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
