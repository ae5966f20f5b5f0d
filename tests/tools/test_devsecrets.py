"""`make run`'s secrets: random, generated once, private, never the operator's own (issue 15)."""

from __future__ import annotations

import stat
from pathlib import Path

from tools.devsecrets import ensure, main


def _values(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_secrets_are_generated_once_random_distinct_and_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secrets.env"
    assert ensure(path, environ={}) == ["MVIDARR_SECRET_KEY", "JWT_SECRET"]
    first = _values(path)
    assert first["MVIDARR_SECRET_KEY"] != first["JWT_SECRET"]
    assert all(len(value) >= 60 for value in first.values())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure(path, environ={}) == []  # a second `make run` keeps them: logins survive restarts
    assert _values(path) == first


def test_a_secret_set_by_the_operator_is_not_generated(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    assert ensure(path, environ={"MVIDARR_SECRET_KEY": "mine"}) == ["JWT_SECRET"]
    assert "MVIDARR_SECRET_KEY" not in _values(path)


def test_main_writes_the_named_file(tmp_path: Path) -> None:
    path = tmp_path / "s.env"
    assert main([str(path)]) == 0 and path.exists()
