"""Alembic environment: sync driver, services-owned tables only, own version table."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

import services.auth.models  # noqa: F401 - registers the auth tables, or autogenerate would drop them
from services.models import SHARED_TABLES, Base

config = context.config
VERSION_TABLE = config.attributes.get("version_table", "services_alembic_version")


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # Never diff (and so never alter or drop) the tables the legacy app owns.
    if type_ == "table":
        return name not in SHARED_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name not in SHARED_TABLES


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
        version_table=VERSION_TABLE,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                version_table=VERSION_TABLE,
                include_object=_include_object,
                render_as_batch=connection.dialect.name == "sqlite",
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
