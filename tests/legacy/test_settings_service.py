from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from legacy_flask.database import init_db, make_engine
from legacy_flask.models import Setting
from legacy_flask.settings_service import DEFAULT_SETTINGS, SettingsService


@pytest.fixture
def service(database_url: str) -> Iterator[type[SettingsService]]:
    engine = make_engine(database_url)
    init_db(engine)
    with Session(engine) as session:
        SettingsService.initialize_defaults(session)
    SettingsService.configure(sessionmaker(bind=engine, expire_on_commit=False))
    yield SettingsService
    engine.dispose()


@pytest.fixture
def other_process(database_url: str) -> Iterator[Session]:
    """A second engine on the same database: what another worker or the services would use."""
    engine = make_engine(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_defaults_include_mvidarr_keys_and_figway_additions(service) -> None:
    keys = {key for key, _, _ in DEFAULT_SETTINGS}
    assert {"app_port", "require_authentication", "musicbrainz_enabled", "restart_command"} <= keys
    assert service.get("app_port") == "5000"
    assert service.get_int("app_port") == 5000
    assert service.get_bool("require_authentication") is False
    assert service.get_bool("musicbrainz_enabled") is True
    assert service.get_json("restart_command") == ["true"]


def test_initialize_defaults_only_adds_missing_keys(service, other_process: Session) -> None:
    assert SettingsService.initialize_defaults(other_process) == 0


def test_typed_getters_fall_back_to_defaults(service) -> None:
    service.set("not_a_number", "abc")
    service.set("not_json", "{oops")

    assert service.get("missing", "fallback") == "fallback"
    assert service.get_int("not_a_number", 7) == 7
    assert service.get_bool("missing", True) is True
    assert service.get_json("not_json", {"d": 1}) == {"d": 1}
    assert service.get_json("missing") is None


def test_values_are_stored_as_strings(service, other_process: Session) -> None:
    service.set_multiple({"flag": True, "count": 3, "items": ["a", 1], "off": False})

    stored = dict(
        other_process.query(Setting.key, Setting.value).filter(
            Setting.key.in_(["flag", "count", "items", "off"])
        )
    )
    assert stored == {"flag": "true", "count": "3", "items": '["a", 1]', "off": "false"}
    assert service.get_bool("flag") is True and service.get_json("items") == ["a", 1]


def test_set_updates_existing_row_and_description(service, other_process: Session) -> None:
    service.set("app_port", 5050, "Port of the app")

    row = other_process.query(Setting).filter_by(key="app_port").one()
    assert (row.value, row.description) == ("5050", "Port of the app")
    assert service.get_all()["app_port"] == "5050"


def test_delete_removes_row_and_cache_entry(service, other_process: Session) -> None:
    assert service.delete("language") is True
    assert service.delete("language") is False
    assert service.get("language") is None
    assert other_process.query(Setting).filter_by(key="language").count() == 0


def test_write_by_another_process_is_not_seen_until_reload_cache(service, other_process: Session) -> None:
    assert service.get("ui_theme") == "default"  # loads the cache

    other_process.execute(text("UPDATE settings SET value = 'dark' WHERE `key` = 'ui_theme'"))
    other_process.add(Setting(key="new_elsewhere", value="1"))
    other_process.commit()

    assert service.get("ui_theme") == "default"  # stale: the MVidarr per-process cache wart
    assert service.get("new_elsewhere") is None

    service.reload_cache()

    assert service.get("ui_theme") == "dark"
    assert service.get("new_elsewhere") == "1"


def test_unconfigured_service_refuses_to_guess_a_database(monkeypatch) -> None:
    monkeypatch.setattr(SettingsService, "_session_factory", None)
    monkeypatch.setattr(SettingsService, "_cache_loaded", False)
    with pytest.raises(RuntimeError, match="not configured"):
        SettingsService.get("anything")
