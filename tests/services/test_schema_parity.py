"""The services' models describe exactly the tables the legacy app creates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.engine import make_url

from legacy_flask.database import init_db
from services.models import SHARED_TABLES, Base
from tests.support.databases import fresh_database


def _describe(engine: Engine) -> dict[str, dict[str, Any]]:
    insp = inspect(engine)
    tables: dict[str, dict[str, Any]] = {}
    for name in sorted(insp.get_table_names()):
        tables[name] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(name)],
            "pk": sorted(insp.get_pk_constraint(name)["constrained_columns"]),
            "fks": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                for fk in insp.get_foreign_keys(name)
            ),
            "indexes": sorted(
                (ix["name"], tuple(ix["column_names"]), bool(ix["unique"])) for ix in insp.get_indexes(name)
            ),
            "uniques": sorted(tuple(uc["column_names"]) for uc in insp.get_unique_constraints(name)),
        }
    return tables


def _backend(url: str) -> str:
    return "sqlite" if make_url(url).drivername.startswith("sqlite") else "mariadb"


def test_models_match_the_tables_legacy_creates(database_url: str, tmp_path: Path) -> None:
    legacy_engine = create_engine(database_url)
    init_db(legacy_engine)
    other_dir = tmp_path / "services"
    other_dir.mkdir()
    with fresh_database(_backend(database_url), other_dir) as services_url:
        services_engine = create_engine(services_url)
        Base.metadata.create_all(services_engine, tables=[Base.metadata.tables[t] for t in SHARED_TABLES])
        try:
            legacy, ours = _describe(legacy_engine), _describe(services_engine)
        finally:
            services_engine.dispose()
    legacy_engine.dispose()
    assert set(legacy) == set(SHARED_TABLES)
    for table in sorted(legacy):
        assert ours[table] == legacy[table], table


def test_every_relationship_refuses_to_lazy_load() -> None:
    lazy = {
        f"{mapper.class_.__name__}.{rel.key}": rel.lazy
        for mapper in Base.registry.mappers
        for rel in mapper.relationships
    }
    assert lazy
    assert {k: v for k, v in lazy.items() if v != "raise"} == {}
