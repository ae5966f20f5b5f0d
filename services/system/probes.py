"""What `/api/health/system` and the admin status report, parsed from command output exactly as
legacy parses it (legacy_flask/api/health.py), so both sides give the same shapes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from services.system.commands import CommandResult, CommandRunner

TOP_PROCESSES = 5
SYSTEMD_STATES = frozenset(
    {"active", "inactive", "failed", "activating", "deactivating", "reloading", "unknown"}
)
_LOAD = re.compile(r"load averages?:\s*([\d.,]+)[,\s]+([\d.,]+)[,\s]+([\d.,]+)")
_UP = re.compile(r"\bup\s+(.*?),\s+\d+\s+users?", re.IGNORECASE)


def _unavailable(result: CommandResult, what: str, **extra: Any) -> dict[str, Any]:
    return {"available": False, "error": result.error or f"unexpected {what} output", **extra}


async def disk(runner: CommandRunner, path: Path) -> dict[str, Any]:
    result = await runner.run(["df", "-P", "-k", str(path)])
    lines = result.stdout.strip().splitlines()
    if not result.ok or len(lines) < 2:
        return _unavailable(result, "df")
    parts = lines[-1].split()
    try:
        total, used, free = (int(parts[i]) * 1024 for i in (1, 2, 3))
    except (IndexError, ValueError):
        return {"available": False, "error": "unexpected df output"}
    return {
        "available": True,
        "filesystem": parts[0],
        "mount": parts[-1],
        "total_bytes": total,
        "used_bytes": used,
        "free_bytes": free,
        "percent_used": round(used * 100 / total, 1) if total else 0.0,
    }


async def memory(runner: CommandRunner) -> dict[str, Any]:
    result = await runner.run(["free", "-b"])
    row = next((line.split() for line in result.stdout.splitlines() if line.startswith("Mem:")), None)
    if not result.ok or row is None:
        return _unavailable(result, "free")
    try:
        total, used = int(row[1]), int(row[2])
        available = int(row[6]) if len(row) > 6 else total - used
    except (IndexError, ValueError):
        return {"available": False, "error": "unexpected free output"}
    return {
        "available": True,
        "total_bytes": total,
        "used_bytes": used,
        "available_bytes": available,
        "percent_used": round(used * 100 / total, 1) if total else 0.0,
    }


async def load(runner: CommandRunner) -> dict[str, Any]:
    result = await runner.run(["uptime"])
    match = _LOAD.search(result.stdout)
    if not result.ok or match is None:
        return _unavailable(result, "uptime")
    one, five, fifteen = (float(v.rstrip(",").replace(",", ".")) for v in match.groups())
    up = _UP.search(result.stdout)
    return {
        "available": True,
        "load_1m": one,
        "load_5m": five,
        "load_15m": fifteen,
        "uptime": up.group(1).strip() if up else result.stdout.strip(),
    }


async def processes(runner: CommandRunner) -> dict[str, Any]:
    result = await runner.run(["ps", "-eo", "pid,pcpu,pmem,comm", "--sort=-pcpu"])
    lines = result.stdout.strip().splitlines()
    if not result.ok or not lines:
        return _unavailable(result, "ps", top=[])
    top = []
    for line in lines[1 : TOP_PROCESSES + 1]:
        parts = line.split(None, 3)
        if len(parts) == 4:
            try:
                top.append(
                    {
                        "pid": int(parts[0]),
                        "cpu": float(parts[1]),
                        "mem": float(parts[2]),
                        "command": parts[3],
                    }
                )
            except ValueError:
                continue
    return {"available": True, "top": top}


async def systemd_state(runner: CommandRunner, unit: str) -> dict[str, Any]:
    """`systemctl is-active <unit>`: the state word, or why it could not be asked."""
    result = await runner.run(["systemctl", "is-active", unit])
    out = result.stdout.strip()
    state = out.splitlines()[0] if out else None
    available = result.returncode is not None and state in SYSTEMD_STATES
    data: dict[str, Any] = {"unit": unit, "available": available, "state": state if available else None}
    if not available:
        data["error"] = result.error or "systemd not available"
    return data
