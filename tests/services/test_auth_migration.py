"""Migration 0002 creates exactly the auth tables the models describe, and only adds."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from legacy_flask.database import init_db
from services.auth.models import AUTH_TABLES
from services.migrate import downgrade, upgrade
from services.models import Base
from services.settings import Settings


def test_auth_migration_matches_the_models_and_downgrades_cleanly(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        init_db(engine)
        upgrade(Settings(database_url=database_url))
        assert set(inspect(engine).get_table_names()) >= AUTH_TABLES
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        ours = [d for d in diffs if AUTH_TABLES & {getattr(part, "name", None) for part in _flatten(d)}]
        assert ours == []
        downgrade(Settings(database_url=database_url), "0001_baseline")
        remaining = set(inspect(engine).get_table_names())
        assert not AUTH_TABLES & remaining and "users" in remaining
    finally:
        engine.dispose()


def _flatten(diff: object) -> list[object]:
    parts: list[object] = []
    items = diff if isinstance(diff, (list, tuple)) else [diff]
    for item in items:
        if isinstance(item, (list, tuple)):
            parts.extend(_flatten(item))
        else:
            parts.append(item)
            table = getattr(item, "table", None)
            if table is not None:
                parts.append(table)
    return parts
