"""`/api/settings` with the legacy contract (legacy_flask/api/settings.py).

Cutover rule (see the report and tests/contract/test_settings_consistency.py): legacy keeps
a per-process cache that only its own writes refresh. Reads on both sides go to the table,
so they always agree; but a write made here is invisible to legacy's *internal* use of a
setting (its login guard, provider keys) until legacy restarts. Hence the gateway must move
every method of `/api/settings*` together (one mode, no canary split of writes), and
legacy must be restarted, or no longer read settings, once writes land here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services._direct_route import direct
from services._legacy_http import iso, json_body, legacy_json
from services._legacy_json import LegacyJSONResponse
from services.app_settings.cache import SettingsCache
from services.app_settings.masking import shown, written
from services.app_settings.repository import SettingRepository
from services.app_settings.schemas import (
    SettingRead,
    SettingsBulkUpdate,
    SettingsBulkWritten,
    SettingsList,
    SettingUpdate,
    SettingWritten,
)
from services.auth.access import ADMIN
from services.db import SessionDep
from services.errors import legacy_error
from services.guard import LEGACY_GUARD
from services.schemas import MessageRead, error_responses, json_body_doc

router = APIRouter(prefix="/api/settings", tags=["settings"], dependencies=[LEGACY_GUARD])


def _cache(request: Request) -> SettingsCache:
    cache: SettingsCache = request.app.state.settings_cache
    return cache


@router.get("/", response_model=SettingsList)
async def list_settings(session: SessionDep) -> LegacyJSONResponse:
    rows = await SettingRepository(session).list_all()
    settings = {
        row.key: {
            "value": shown(row.key, row.value),
            "description": row.description,
            "updated_at": iso(row.updated_at),
        }
        for row in rows
    }
    return legacy_json({"settings": settings, "count": len(settings)})


# Declared before `/{key}`: "bulk" is never taken as a key (werkzeug ranks static rules first too).
@router.put(
    "/bulk",
    dependencies=[ADMIN],
    response_model=SettingsBulkWritten,
    responses=error_responses(400),
    openapi_extra=json_body_doc(SettingsBulkUpdate),
)
async def update_bulk(request: Request, session: SessionDep) -> LegacyJSONResponse:
    data = await json_body(request) or {}
    values = data.get("settings")
    if not isinstance(values, dict) or not values:
        raise legacy_error(400, "Settings data is required")
    await SettingRepository(session).set_many(values=written(values), descriptions={})
    _cache(request).invalidate(*values)
    updated = [{"key": key, "value": value} for key, value in values.items()]
    return legacy_json({"updated_settings": updated, "count": len(updated)})


@router.get("/{key}", response_model=SettingRead, responses=error_responses(404))
async def get_setting(key: str, session: SessionDep) -> LegacyJSONResponse:
    row = await SettingRepository(session).get_by_key(key=key)
    if row is None:
        raise legacy_error(404, "Setting not found")
    return legacy_json(
        {
            "key": row.key,
            "value": shown(row.key, row.value),
            "description": row.description,
            "updated_at": iso(row.updated_at),
        }
    )


@direct(
    router,
    "PUT",
    "/{key}",
    single_write=True,
    dependencies=[ADMIN],
    response_model=SettingWritten,
    responses=error_responses(400),
    openapi_extra=json_body_doc(SettingUpdate),
)
async def update_setting(key: str, request: Request, session: SessionDep) -> LegacyJSONResponse:
    data = await json_body(request) or {}
    if "value" not in data:
        raise legacy_error(400, "Value is required")
    description: Any = data.get("description")
    if isinstance(description, dict | list):
        # Legacy stores any scalar here (the TEXT column keeps 5 as "5"); an object or a list
        # cannot be bound, legacy's 500: refused as a 400 (differences.yaml).
        raise legacy_error(400, "Description must be a string")
    if written({key: data["value"]}):  # a masked secret written back keeps the stored one
        await SettingRepository(session).set_one(key=key, value=data["value"], description=description)
    _cache(request).invalidate(key)
    return legacy_json({"key": key, "value": data["value"], "description": description, "updated_at": "now"})


@router.delete("/{key}", dependencies=[ADMIN], response_model=MessageRead, responses=error_responses(404))
async def delete_setting(key: str, request: Request, session: SessionDep) -> LegacyJSONResponse:
    if not await SettingRepository(session).delete_key(key=key):
        raise legacy_error(404, "Setting not found")
    _cache(request).invalidate(key)
    return legacy_json({"message": f"Setting '{key}' deleted"})
