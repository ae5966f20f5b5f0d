"""`/admin/system/*` JSON endpoints with legacy's contract (legacy_flask/api/admin.py), admin only.

Admin protection is one dependency, `ADMIN_REQUIRED`: legacy's `@admin_required` bodies (401
AUTH_REQUIRED / 403 INSUFFICIENT_PERMISSIONS) on these non-`/api` paths. When the auth
package's `require_role(UserRole.ADMIN)` answers legacy bodies for `/admin`, it replaces it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, Depends, Request

from services._legacy_json import LegacyJSONResponse
from services.app_settings.cache import SettingsCache
from services.auth import audit
from services.auth.access import INSUFFICIENT_BODY, access_rule
from services.auth.current_user import AUTH_REQUIRED_BODY, Principal, PrincipalDep
from services.db import SessionDep
from services.errors import LegacyError
from services.models import ROLE_LEVEL, UserRole
from services.settings import ROOT, Settings
from services.system import probes
from services.system.commands import CommandRunner
from services.system.runtime import command_runner, repo_path

log = structlog.get_logger("services.admin")

RECENT_LINES = 50
TAIL_BLOCK = 8192
_PROCESS_STARTED = time.time()
# Exact argument lists `restart_command` may hold (legacy's list); RESTART_ALLOWLIST adds more.
RESTART_ALLOWLIST: tuple[tuple[str, ...], ...] = (
    ("true",),
    ("systemctl", "restart", "mvidarr"),
    ("systemctl", "restart", "mvidarr.service"),
    ("sudo", "systemctl", "restart", "mvidarr"),
    ("scripts/manage_service.sh", "restart"),
)
NOT_CONFIGURED = "Restart command is not configured (setting restart_command must be a JSON list)"
NOT_ALLOWED = "Restart command is not in the allow-list"


@access_rule("admin (legacy @admin_required bodies)")
async def require_admin(principal: PrincipalDep) -> Principal:
    if principal is None:
        raise LegacyError(401, AUTH_REQUIRED_BODY)
    if ROLE_LEVEL[principal.role] < ROLE_LEVEL[UserRole.ADMIN]:
        raise LegacyError(403, INSUFFICIENT_BODY)
    return principal


ADMIN_REQUIRED = Depends(require_admin)

router = APIRouter(prefix="/admin/system", tags=["admin"], dependencies=[ADMIN_REQUIRED])


async def restart_command(request: Request, session: SessionDep) -> tuple[list[str] | None, str | None]:
    """The configured restart argv when it is allow-listed, else (None, reason)."""
    cache: SettingsCache = request.app.state.settings_cache
    settings: Settings = request.app.state.settings
    raw = await cache.get(session, "restart_command")
    try:
        argv = json.loads(raw) if raw else None
    except ValueError:
        argv = None
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        return None, NOT_CONFIGURED
    if tuple(argv) not in {*RESTART_ALLOWLIST, *settings.restart_allowlist}:
        return None, NOT_ALLOWED
    return argv, None


@router.get("/status/service")
async def service_status(request: Request, session: SessionDep) -> LegacyJSONResponse:
    settings: Settings = request.app.state.settings
    systemd, (argv, _reason), script = await asyncio.gather(
        probes.systemd_state(command_runner(request), settings.service_unit),
        restart_command(request, session),
        asyncio.to_thread((ROOT / "scripts" / "manage_service.sh").exists),
    )
    if systemd.get("state") == "active":
        service_type = "systemd"
    elif script:
        service_type = "script"
    else:
        service_type = "process"
    body: dict[str, Any] = {
        "pid": os.getpid(),
        "uptime": round(time.time() - _PROCESS_STARTED, 1),
        "service_type": service_type,
        "restart_available": argv is not None,
    }
    if service_type == "systemd" or systemd.get("available"):
        body["service_details"] = systemd
    return LegacyJSONResponse(body)


def tail(path: Path, lines: int, block: int = TAIL_BLOCK) -> list[str]:
    """The last `lines` lines, read backwards from the end in blocks: a large log costs little."""
    with path.open("rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        data = b""
        while end > 0 and data.count(b"\n") <= lines:
            start = max(0, end - block)
            fh.seek(start)
            data = fh.read(end - start) + data
            end = start
    return [line.decode("utf-8", "replace") for line in data.splitlines()[-lines:]]


@router.get("/logs/recent")
async def recent_logs(request: Request) -> LegacyJSONResponse:
    settings: Settings = request.app.state.settings
    path = repo_path(settings.log_file)
    try:
        entries = await asyncio.to_thread(tail, path, RECENT_LINES)  # file I/O off the event loop
    except FileNotFoundError:
        return LegacyJSONResponse({"error": "Log file not found", "log_file": str(path)}, status_code=404)
    return LegacyJSONResponse({"log_entries": entries, "log_file": str(path), "entry_count": len(entries)})


async def _restart_later(runner: CommandRunner, argv: list[str], delay: float, user: str) -> None:
    await asyncio.sleep(delay)  # lets the HTTP answer leave first
    result = await runner.run(argv, cwd=ROOT)
    log.info(
        "admin.restart_finished",
        user=user,
        argv=argv,
        status=result.status,
        returncode=result.returncode,
        error=result.error,
    )


@router.post("/restart")
async def restart(
    request: Request, session: SessionDep, principal: Principal = ADMIN_REQUIRED
) -> LegacyJSONResponse:
    argv, reason = await restart_command(request, session)
    user, ip = principal.user, request.client.host if request.client else None
    if argv is None:
        log.warning("admin.restart_refused", user=principal.user.username, reason=reason)
        await audit.record(
            session, "admin_restart_refused", user_id=user.id, username=user.username, ip=ip, reason=reason
        )
        return LegacyJSONResponse({"success": False, "error": reason}, status_code=400)
    settings: Settings = request.app.state.settings
    log.info("admin.restart_requested", user=principal.user.username, argv=argv)
    await audit.record(  # the audit trail: a row, next to the auth events
        session, "admin_restart", user_id=user.id, username=user.username, ip=ip, argv=argv
    )
    task = asyncio.create_task(
        _restart_later(command_runner(request), argv, settings.restart_delay, principal.user.username)
    )
    background: set[asyncio.Task[None]] | None = getattr(request.app.state, "restart_tasks", None)
    if background is None:
        background = request.app.state.restart_tasks = set()
    background.add(task)  # keep a reference until it is done
    task.add_done_callback(background.discard)
    return LegacyJSONResponse(
        {"success": True, "message": "Application restart initiated", "estimated_downtime": "10-30 seconds"}
    )
