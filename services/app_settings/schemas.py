from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services._validators import EchoedText


class SettingValue(BaseModel):
    value: str | None
    description: str | None
    updated_at: str | None


class SettingRead(SettingValue):
    key: str


class SettingsList(BaseModel):
    settings: dict[str, SettingValue]
    count: int


class SettingUpdate(BaseModel):
    value: Any = Field(description="stored as a string: booleans as true/false, lists/objects as JSON")
    description: str | None = None


class SettingWritten(BaseModel):
    key: str
    value: Any
    description: EchoedText
    updated_at: str = Field(description='always the literal "now" (legacy)')


class SettingsBulkUpdate(BaseModel):
    settings: dict[str, Any]


class KeyValue(BaseModel):
    key: str
    value: Any


class SettingsBulkWritten(BaseModel):
    updated_settings: list[KeyValue]
    count: int
