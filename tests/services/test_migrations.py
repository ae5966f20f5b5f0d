"""Alembic migrations are additive: after each one the legacy app still works unchanged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from legacy_flask.app import create_app as create_legacy_app
from legacy_flask.seed import seed
from services.migrate import VERSION_TABLE, alembic_config, downgrade, upgrade
from services.models import SHARED_TABLES
from services.settings import Settings
from tests.support.databases import async_url


def _legacy_still_works(url: str) -> None:
    app = create_legacy_app({"DATABASE_URL": url, "TESTING": True})
    client = app.test_client()
    try:
        assert client.get("/api/videos/?limit=3").get_json()["count"] == 3
        assert client.get("/api/artists/?per_page=2").status_code == 200
        assert client.put("/api/settings/language", json={"value": "nl"}).status_code == 200
        created = client.post("/api/artists/", json={"name": "After Migration"})
        assert created.status_code == 201
        assert client.delete(f"/api/artists/{created.get_json()['id']}").status_code == 200
    finally:
        app.extensions["figway_engine"].dispose()


def _shared_columns(url: str) -> dict[str, list[tuple[str, str, bool]]]:
    engine = create_engine(url)
    try:
        insp = inspect(engine)
        return {
            table: [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)]
            for table in sorted(SHARED_TABLES)
        }
    finally:
        engine.dispose()


def test_every_migration_leaves_legacy_working_and_its_tables_untouched(database_url: str) -> None:
    engine = create_engine(database_url)
    seed(engine, scale=0.02)
    engine.dispose()
    before = _shared_columns(database_url)
    settings = Settings(database_url=async_url(database_url))
    script = ScriptDirectory.from_config(alembic_config(settings))
    revisions = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert revisions[0] == "0001_baseline"
    for revision in revisions:
        upgrade(settings, revision)
        assert _shared_columns(database_url) == before, revision
        _legacy_still_works(database_url)
    engine = create_engine(database_url)
    try:
        assert VERSION_TABLE in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    downgrade(settings, "base")
    _legacy_still_works(database_url)


def test_migrate_command_creates_the_services_version_table(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    env = {"DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "services", "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    engine = create_engine(f"sqlite:///{db}")
    try:
        assert VERSION_TABLE in inspect(engine).get_table_names()
        assert "alembic_version" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
