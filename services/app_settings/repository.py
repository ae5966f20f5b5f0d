from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update

from services._driver import Prepared
from services.models import Setting, utcnow
from services.repository import Repository


def to_stored(value: Any) -> str:
    """How legacy's SettingsService stores a value: everything is a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else str(value)


_SETTINGS = cast(Table, Setting.__table__)
# The PUT's UPDATE by key, with and without a description, straight on the driver on MariaDB
# (services/_driver.py). An INSERT's `created_at`/`updated_at` are the columns' defaults, as
# the ORM wrote them.
_BY_KEY = _SETTINGS.c.key == bindparam("b_key")
_UPDATE = Prepared(
    update(_SETTINGS).where(_BY_KEY).values(value=bindparam("value"), updated_at=bindparam("updated_at"))
)
_UPDATE_DESCRIBED = Prepared(
    update(_SETTINGS)
    .where(_BY_KEY)
    .values(
        value=bindparam("value"), updated_at=bindparam("updated_at"), description=bindparam("description")
    )
)
_INSERT = insert(_SETTINGS)


class SettingRepository(Repository[Setting]):
    model = Setting

    async def list_all(self) -> Sequence[Setting]:
        return await self.list(order_by=[Setting.key])

    async def get_by_key(self, *, key: str) -> Setting | None:
        found: Setting | None = await self.session.scalar(select(Setting).where(Setting.key == key))
        return found

    async def set_many(self, *, values: Mapping[str, Any], descriptions: Mapping[str, str | None]) -> None:
        existing = {
            row.key: row
            for row in await self.session.scalars(select(Setting).where(Setting.key.in_(list(values))))
        }
        for key, raw in values.items():
            value = to_stored(raw)
            row = existing.get(key)
            if row is None:
                # The database's collation decides which keys are equal (MariaDB's ignores case,
                # accents and trailing spaces): a key the dict missed may still be stored. Ask, as
                # legacy's per-key query does, after flushing this call's own inserts; otherwise the
                # INSERT breaks the unique key and the client gets a 500 where legacy updated the row.
                await self.session.flush()
                row = await self.get_by_key(key=key)
            if row is None:
                row = Setting(key=key, value=value, description=descriptions.get(key))
                self.session.add(row)
                existing[key] = row
            else:
                row.value = value
                row.updated_at = utcnow()
                if descriptions.get(key):
                    row.description = descriptions[key]
        await self.session.flush()

    async def set_one(self, *, key: str, value: Any, description: Any = None) -> None:
        """`set_many` of one key in one statement when the row exists (the common write): an
        UPDATE by key, whose matched-row count (MySQL dialects ask for FOUND_ROWS; SQLite counts
        matches) says whether to INSERT. The key is compared by the database's collation, as
        legacy's query compares it. Same row left behind: value, `updated_at` = now, and the
        description only when one is given."""
        stored = to_stored(value)
        values = {"b_key": key, "value": stored, "updated_at": utcnow(), "description": description}
        if not await (_UPDATE_DESCRIBED if description else _UPDATE).write(self.session, values):
            await self.session.execute(
                _INSERT, {"key": key, "value": stored, "description": description or None}
            )

    async def delete_key(self, *, key: str) -> bool:
        result = await self.session.execute(delete(Setting).where(Setting.key == key))
        return bool(getattr(result, "rowcount", 0))
