"""Login throttling keys under MariaDB's case- and accent-insensitive collation (issue 15).

On MariaDB (utf8mb4_unicode_ci) `Admin`, `ADMİN` and `admín` all find the row `admin`, so each
is a guess at admin's password: they must share one throttling key, or an attacker rotating
spellings gets `attempts` guesses per spelling. On SQLite they find no row (binary comparison)
and fold to one name key. Either way the spellings count together. Services are reached
directly: each attempt comes from its own forwarded address, so only the account key can refuse.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services._security_support import PASSWORD, Stack, serve_stack

SPELLINGS = ("Admin", "ADMİN", "admín")


@pytest.fixture
def direct(database_url: str, tmp_path: Path) -> Iterator[Stack]:
    with serve_stack(database_url, tmp_path, "direct", login_rate_limit_attempts=3) as stack:
        yield stack


def _attempt(stack: Stack, name: str, n: int, password: str = "wrong") -> int:
    forwarded = {"X-Forwarded-For": f"203.0.113.{n}"}
    return stack.api.post(
        "/auth/token", json={"username": name, "password": password}, headers=forwarded
    ).status_code


def test_case_and_accent_spellings_share_one_throttling_key(direct: Stack) -> None:
    statuses = [_attempt(direct, SPELLINGS[n % 3], n) for n in range(3)]
    assert statuses == [401, 401, 401]
    assert _attempt(direct, "admín", 10) == 429
    assert _attempt(direct, "ADMİN", 11) == 429
    # The account itself was never locked: the owner still logs in on the legacy-contract route.
    assert direct.scalar("SELECT locked_until FROM users WHERE username = 'admin'") is None


def test_legacy_lockout_counts_every_spelling_that_finds_the_account(direct: Stack) -> None:
    backend = direct.engine.dialect.name
    for n in range(6):
        direct.api.post("/auth/login", json={"username": SPELLINGS[n % 3], "password": "wrong"})
    locked = direct.scalar("SELECT locked_until FROM users WHERE username = 'admin'")
    right = direct.api.post("/auth/login", json={"username": "admin", "password": PASSWORD})
    if backend == "mysql":  # every spelling found the row: five failures, legacy's lock
        assert locked is not None and right.status_code == 401
    else:  # no spelling names an account on SQLite: nothing counted against admin
        assert locked is None and right.status_code == 200
