"""Blocking system commands for the health and admin endpoints, as MVidarr runs them:
`subprocess.run` with an argument list (never a shell) and `timeout=10` in the request thread.

A command that is missing, times out or fails is reported in the answer, never raised.
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

log = logging.getLogger("legacy_flask.system")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT = 10.0
MAX_OUTPUT = 64 * 1024


@dataclass
class CommandResult:
    argv: list[str]
    ok: bool
    returncode: int | None
    stdout: str
    stderr: str
    error: str | None = None


def setting(key: str, default: float) -> float:
    """A number from app config, else the environment, else `default`."""
    raw = current_app.config.get(key)
    if raw is None:
        raw = os.environ.get(key)
    try:
        return default if raw is None else float(raw)
    except (TypeError, ValueError):
        return default


def command_timeout() -> float:
    return setting("SYSTEM_COMMAND_TIMEOUT", DEFAULT_TIMEOUT)


def run(argv: list[str], *, timeout: float | None = None, cwd: Path | None = None) -> CommandResult:
    timeout = command_timeout() if timeout is None else timeout
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)
    except FileNotFoundError:
        log.warning("system command not found: %s", argv[0])
        return CommandResult(argv, False, None, "", "", f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        log.warning("system command timed out after %ss: %s", timeout, argv[0])
        return CommandResult(argv, False, None, "", "", f"{argv[0]}: timed out after {timeout:g}s")
    except OSError as exc:
        return CommandResult(argv, False, None, "", "", f"{argv[0]}: {exc.strerror or exc}")
    stdout, stderr = done.stdout[:MAX_OUTPUT], done.stderr[:MAX_OUTPUT]
    error = None if done.returncode == 0 else (stderr.strip() or stdout.strip() or f"exit {done.returncode}")
    return CommandResult(argv, done.returncode == 0, done.returncode, stdout, stderr, error)


def systemd_state(unit: str = "mvidarr") -> dict[str, object]:
    """`systemctl is-active <unit>`: the state word, or why it could not be asked."""
    result = run(["systemctl", "is-active", unit])
    state = result.stdout.strip().splitlines()[0] if result.stdout.strip() else None
    available = result.returncode is not None and state in {
        "active",
        "inactive",
        "failed",
        "activating",
        "deactivating",
        "reloading",
        "unknown",
    }
    data: dict[str, object] = {"unit": unit, "available": available, "state": state if available else None}
    if not available:
        data["error"] = result.error or "systemd not available"
    return data
