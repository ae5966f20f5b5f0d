"""Alembic, driven from code: `upgrade(settings)` is what `python -m services migrate` runs.

Migrations are additive only and touch services-owned tables; the shared tables belong to the
legacy app (see `services.models.SHARED_TABLES`). The version table is `services_alembic_version`
so it can never collide with anything legacy has.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from services.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "services_alembic_version"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic runs sync (pysqlite / pymysql); `%` must be escaped for configparser.
    config.set_main_option("sqlalchemy.url", settings.sync_database_url.replace("%", "%%"))
    config.attributes["version_table"] = VERSION_TABLE
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    command.downgrade(alembic_config(settings), revision)
