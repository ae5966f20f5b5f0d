"""`/api/settings`, as MVidarr's src/api/settings.py.

Reads go to the table (as MVidarr's routes do); writes go through `SettingsService`, which
also refreshes this process's cache. `PUT /bulk` is a static rule, so werkzeug ranks it
above `PUT /<key>`: "bulk" is never taken as a key.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from legacy_flask.api._common import error, iso, json_body
from legacy_flask.extensions import db
from legacy_flask.models import Setting
from legacy_flask.settings_service import SettingsService

bp = Blueprint("settings", __name__)


@bp.route("/", methods=["GET"])
def get_settings() -> Any:
    rows = db().query(Setting).order_by(Setting.key).all()
    settings = {
        row.key: {"value": row.value, "description": row.description, "updated_at": iso(row.updated_at)}
        for row in rows
    }
    return jsonify({"settings": settings, "count": len(settings)})


@bp.route("/bulk", methods=["PUT"])
def update_bulk() -> Any:
    data = json_body() or {}
    values = data.get("settings")
    if not isinstance(values, dict) or not values:
        return error("Settings data is required", 400)
    SettingsService.set_multiple(values)
    updated = [{"key": key, "value": value} for key, value in values.items()]
    return jsonify({"updated_settings": updated, "count": len(updated)})


@bp.route("/<key>", methods=["GET"])
def get_setting(key: str) -> Any:
    row = db().query(Setting).filter_by(key=key).first()
    if row is None:
        return error("Setting not found", 404)
    return jsonify(
        {
            "key": row.key,
            "value": row.value,
            "description": row.description,
            "updated_at": iso(row.updated_at),
        }
    )


@bp.route("/<key>", methods=["PUT"])
def update_setting(key: str) -> Any:
    data = json_body() or {}
    if "value" not in data:
        return error("Value is required", 400)
    description = data.get("description")
    SettingsService.set(key, data["value"], description)
    return jsonify({"key": key, "value": data["value"], "description": description, "updated_at": "now"})


@bp.route("/<key>", methods=["DELETE"])
def delete_setting(key: str) -> Any:
    if not SettingsService.delete(key):
        return error("Setting not found", 404)
    return jsonify({"message": f"Setting '{key}' deleted"})
