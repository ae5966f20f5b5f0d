from __future__ import annotations

from sqlalchemy.orm import Session

from legacy_flask.models import Setting
from legacy_flask.settings_service import DEFAULT_SETTINGS


def test_list_returns_every_setting_with_value_description_and_time(client) -> None:
    body = client.get("/api/settings/").get_json()

    assert body["count"] == len(DEFAULT_SETTINGS) == len(body["settings"])
    assert body["settings"]["app_port"] == {
        "value": "5000",
        "description": "Application port",
        "updated_at": "2025-01-01T12:00:00",
    }


def test_get_one_setting(client) -> None:
    assert client.get("/api/settings/require_authentication").get_json() == {
        "key": "require_authentication",
        "value": "false",
        "description": "Require login for the web interface and API",
        "updated_at": "2025-01-01T12:00:00",
    }


def test_get_unknown_setting_is_404(client) -> None:
    response = client.get("/api/settings/nope")

    assert response.status_code == 404
    assert response.get_json() == {"error": "Setting not found"}


def test_put_setting_writes_row_and_answers_now(client, db_session: Session) -> None:
    response = client.put("/api/settings/ui_theme", json={"value": "dark", "description": "Theme"})

    assert response.status_code == 200
    assert response.get_json() == {
        "key": "ui_theme",
        "value": "dark",
        "description": "Theme",
        "updated_at": "now",
    }
    row = db_session.query(Setting).filter_by(key="ui_theme").one()
    assert (row.value, row.description) == ("dark", "Theme")


def test_put_creates_a_new_key(client) -> None:
    client.put("/api/settings/brand_new", json={"value": True})

    assert client.get("/api/settings/brand_new").get_json()["value"] == "true"


def test_put_without_value_is_400(client) -> None:
    response = client.put("/api/settings/ui_theme", json={"description": "x"})

    assert response.status_code == 400
    assert response.get_json() == {"error": "Value is required"}


def test_bulk_put_updates_every_key_and_is_not_taken_as_a_key(client, db_session: Session) -> None:
    response = client.put(
        "/api/settings/bulk", json={"settings": {"language": "de", "max_concurrent_downloads": 5}}
    )

    assert response.status_code == 200
    assert response.get_json() == {
        "updated_settings": [
            {"key": "language", "value": "de"},
            {"key": "max_concurrent_downloads", "value": 5},
        ],
        "count": 2,
    }
    values = dict(db_session.query(Setting.key, Setting.value))
    assert values["language"] == "de" and values["max_concurrent_downloads"] == "5"
    assert "bulk" not in values


def test_bulk_put_without_settings_is_400(client) -> None:
    for body in ({}, {"settings": {}}, {"settings": ["a"]}):
        response = client.put("/api/settings/bulk", json=body)
        assert response.status_code == 400
        assert response.get_json() == {"error": "Settings data is required"}


def test_delete_setting_then_404(client) -> None:
    response = client.delete("/api/settings/language")

    assert response.status_code == 200
    assert response.get_json() == {"message": "Setting 'language' deleted"}
    assert client.get("/api/settings/language").status_code == 404
    assert client.delete("/api/settings/language").status_code == 404
