"""Secret-valued settings (provider keys and secrets) never leave the services in clear.

Legacy's `GET /api/settings/` answers every row as stored, provider secrets included, to any
caller the login guard lets through. Here a secret-valued setting with a value reads as `MASK`;
writing `MASK` back (a settings form that re-submits what it showed) keeps the stored secret.
An unset secret reads as stored (empty), so a form can still tell "not configured".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "********"
# The key names that hold credentials: *_secret, *_api_key, *_password, *_token.
SECRET_KEY = re.compile(r"(?:^|_)(?:secret|api_key|password|token)$", re.IGNORECASE)


def is_secret(key: str) -> bool:
    return SECRET_KEY.search(key) is not None


def shown(key: str, value: str | None) -> str | None:
    """The value a reader sees."""
    if value and is_secret(key):
        return MASK
    return value


def written(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values to store: a masked secret written back is left as it is."""
    return {key: value for key, value in values.items() if not (value == MASK and is_secret(key))}
