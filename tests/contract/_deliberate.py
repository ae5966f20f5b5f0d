"""Contract cases where services answer differently on purpose (an entry of differences.yaml).

`refused(pair, entry_id, ...)` asserts the entry exists and that services answer its refusal.
Legacy is asked too when its answer writes nothing (`legacy_status`); when legacy would write
(a READONLY write it accepts), it is not sent the request, so the twin databases stay equal
for the cases after it (the entry's `condition` records what legacy does).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from tests.contract.harness import Answer, Pair
from tests.contract.registry import load

INSUFFICIENT = {"error": "Insufficient permissions", "code": "INSUFFICIENT_PERMISSIONS"}
AUTH_REQUIRED = {"error": "Authentication required", "code": "AUTH_REQUIRED"}


@cache
def _entry_ids() -> frozenset[str]:
    return frozenset(entry.id for entry in load().entries)


def refused(
    pair: Pair,
    entry_id: str,
    method: str,
    path: str,
    *,
    status: int = 403,
    body: Any = None,
    legacy_status: int | None = None,
    **kw: Any,
) -> Answer:
    assert entry_id in _entry_ids(), f"{entry_id} is not in differences.yaml"
    if legacy_status is not None:
        old = pair.send("legacy", method, path, **kw)
        assert old.status == legacy_status, (method, path, old.status, old.body)
    new = pair.send("services", method, path, **kw)
    expected = body if body is not None else (INSUFFICIENT if status == 403 else AUTH_REQUIRED)
    assert (new.status, new.body) == (status, expected), (method, path, new.status, new.body)
    return new
