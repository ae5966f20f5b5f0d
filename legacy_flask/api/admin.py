"""`/admin` JSON endpoints, as MVidarr's src/api/admin_interface.py (the HTML pages are not
reproduced). Every route is `@admin_required`.

This blueprint also points the `legacy_flask` logger at the log file that
`/admin/system/logs/recent` reads (`MVIDARR_LOG_FILE`, default `var/legacy.log`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask.blueprints import BlueprintSetupState

from legacy_flask.api._system import ROOT, command_timeout, run, setting, systemd_state
from legacy_flask.auth.decorators import admin_required
from legacy_flask.extensions import db
from legacy_flask.models import User, UserRole
from legacy_flask.settings_service import SettingsService

log = logging.getLogger("legacy_flask.admin")

bp = Blueprint("admin", __name__)

DEFAULT_LOG_FILE = "var/legacy.log"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
RECENT_LINES = 50
DEFAULT_RESTART_DELAY = 1.0  # lets the HTTP answer leave before the restart starts
# Exact argument lists `restart_command` may hold. MVIDARR_RESTART_ALLOWLIST (a JSON list of
# argv lists, env or app config) adds more; nothing outside the list is ever executed.
RESTART_ALLOWLIST: tuple[tuple[str, ...], ...] = (
    ("true",),
    ("systemctl", "restart", "mvidarr"),
    ("systemctl", "restart", "mvidarr.service"),
    ("sudo", "systemctl", "restart", "mvidarr"),
    ("scripts/manage_service.sh", "restart"),
)
_PROCESS_STARTED = time.time()

_log_handler: logging.FileHandler | None = None
_log_handler_lock = threading.Lock()


def log_file_path(app: Flask | None = None) -> Path:
    app = app or current_app
    raw = app.config.get("MVIDARR_LOG_FILE") or os.environ.get("MVIDARR_LOG_FILE") or DEFAULT_LOG_FILE
    path = Path(raw)
    return path if path.is_absolute() else ROOT / path


@bp.record_once
def _install_log_file(state: BlueprintSetupState) -> None:
    """One file handler per process on the `legacy_flask` logger (a new path replaces it)."""
    global _log_handler
    path = log_file_path(state.app)
    with _log_handler_lock:
        if _log_handler is not None and Path(_log_handler.baseFilename) == path:
            return
        logger = logging.getLogger("legacy_flask")
        if _log_handler is not None:
            logger.removeHandler(_log_handler)
            _log_handler.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
        _log_handler = handler
    logger.info("legacy app logging to %s", path)


def _tail(path: Path, lines: int) -> list[str]:
    """The last `lines` lines, read from the end so a large log costs little."""
    block = 8192
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        data = b""
        while end > 0 and data.count(b"\n") <= lines:
            start = max(0, end - block)
            fh.seek(start)
            data = fh.read(end - start) + data
            end = start
    return [line.decode("utf-8", "replace") for line in data.splitlines()[-lines:]]


def _allowlist() -> set[tuple[str, ...]]:
    allowed = set(RESTART_ALLOWLIST)
    extra = current_app.config.get("MVIDARR_RESTART_ALLOWLIST") or os.environ.get("MVIDARR_RESTART_ALLOWLIST")
    if isinstance(extra, str) and extra:
        try:
            extra = json.loads(extra)
        except ValueError:
            log.error("MVIDARR_RESTART_ALLOWLIST is not JSON; ignored")
            extra = []
    for argv in extra or []:
        if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
            allowed.add(tuple(argv))
    return allowed


def restart_command() -> tuple[list[str] | None, str | None]:
    """The configured restart argv when it is allow-listed, else (None, reason)."""
    argv = SettingsService.get_json("restart_command")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        return None, "Restart command is not configured (setting restart_command must be a JSON list)"
    if tuple(argv) not in _allowlist():
        return None, "Restart command is not in the allow-list"
    return argv, None


@bp.route("/system/status/service", methods=["GET"])
@admin_required
def service_status() -> Any:
    systemd = systemd_state("mvidarr")
    if systemd.get("state") == "active":
        service_type = "systemd"
    elif (ROOT / "scripts" / "manage_service.sh").exists():
        service_type = "script"
    else:
        service_type = "process"
    argv, _reason = restart_command()
    body: dict[str, Any] = {
        "pid": os.getpid(),
        "uptime": round(time.time() - _PROCESS_STARTED, 1),
        "service_type": service_type,
        "restart_available": argv is not None,
    }
    if service_type == "systemd" or systemd.get("available"):
        body["service_details"] = systemd
    return jsonify(body)


@bp.route("/system/logs/recent", methods=["GET"])
@admin_required
def recent_logs() -> Any:
    path = log_file_path()
    try:
        entries = _tail(path, RECENT_LINES)
    except FileNotFoundError:
        return jsonify({"error": "Log file not found", "log_file": str(path)}), 404
    return jsonify({"log_entries": entries, "log_file": str(path), "entry_count": len(entries)})


def _restart_in_background(argv: list[str], delay: float, timeout: float) -> None:
    time.sleep(delay)
    result = run(argv, timeout=timeout, cwd=ROOT)
    if result.ok:
        log.info("admin.restart command finished: %s", " ".join(argv))
    else:
        log.error("admin.restart command failed: %s: %s", " ".join(argv), result.error)


@bp.route("/system/restart", methods=["POST"])
@admin_required
def restart() -> Any:
    argv, reason = restart_command()
    if argv is None:
        log.warning("admin.restart refused: %s", reason)
        return jsonify({"success": False, "error": reason}), 400
    delay = setting("RESTART_DELAY", DEFAULT_RESTART_DELAY)
    timeout = command_timeout()
    log.info("admin.restart requested by %s: %s", g.current_user.username, " ".join(argv))
    threading.Thread(
        target=_restart_in_background, args=(argv, delay, timeout), name="mvidarr-restart", daemon=True
    ).start()
    return jsonify(
        {"success": True, "message": "Application restart initiated", "estimated_downtime": "10-30 seconds"}
    )


def _user_or_404(user_id: int) -> tuple[User | None, Any]:
    user = db().get(User, user_id)
    if user is None:
        return None, (jsonify({"error": "User not found"}), 404)
    return user, None


@bp.route("/api/users/<int:user_id>/role", methods=["POST"])
@admin_required
def change_role(user_id: int) -> Any:
    role_name = str(request.form.get("role") or "").strip().upper()
    try:
        role = UserRole[role_name]
    except KeyError:
        return jsonify({"error": "Invalid role"}), 400
    user, missing = _user_or_404(user_id)
    if user is None:
        return missing
    old = user.role.value
    user.role = role
    db().commit()
    log.info(
        "admin.role_changed user=%s from=%s to=%s by=%s",
        user.username,
        old,
        role.value,
        g.current_user.username,
    )
    return jsonify({"success": True, "message": f"User {user.username} role changed to {role.value}"})


@bp.route("/api/users/<int:user_id>/toggle-active", methods=["POST"])
@admin_required
def toggle_active(user_id: int) -> Any:
    if user_id == g.current_user.id:
        return jsonify({"error": "Cannot deactivate your own account"}), 400
    user, missing = _user_or_404(user_id)
    if user is None:
        return missing
    user.is_active = not user.is_active
    db().commit()
    action = "activated" if user.is_active else "deactivated"
    log.info("admin.user_%s user=%s by=%s", action, user.username, g.current_user.username)
    return jsonify(
        {
            "success": True,
            "message": f"User {user.username} {action} successfully",
            "action": action,
            "new_status": user.is_active,
        }
    )
