from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services._validators import Echoed, TextLike


class SettingValue(BaseModel):
    value: str | None
    description: Echoed
    updated_at: str | None


class SettingRead(SettingValue):
    key: str


class SettingsList(BaseModel):
    settings: dict[str, SettingValue]
    count: int


class SettingUpdate(BaseModel):
    value: Any = Field(description="stored as a string: booleans as true/false, lists/objects as JSON")
    description: TextLike = None


class SettingWritten(BaseModel):
    key: str
    value: Any
    description: Echoed
    updated_at: str = Field(description='always the literal "now" (legacy)')


class SettingsBulkUpdate(BaseModel):
    settings: dict[str, Any]


class KeyValue(BaseModel):
    key: str
    value: Any


class SettingsBulkWritten(BaseModel):
    updated_settings: list[KeyValue]
    count: int
