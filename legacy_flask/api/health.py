"""`/api/health` endpoints, as MVidarr's src/api/health.py.

`/system` is our addition (MVidarr has no df/free/ps calls): it runs `df`, `free`, `ps`,
`uptime` and `systemctl is-active mvidarr` one after another with blocking `subprocess.run`,
which is the kind of request-thread work the migration replaces.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from legacy_flask.api._system import ROOT, run, systemd_state
from legacy_flask.extensions import db
from legacy_flask.models import utcnow
from legacy_flask.providers.imvdb import imvdb_service

log = logging.getLogger("legacy_flask.health")

bp = Blueprint("health", __name__)

TOP_PROCESSES = 5
VERSION_FILE = ROOT / "legacy_flask" / "version.json"


def _database_error() -> str | None:
    try:
        db().execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any fault means unhealthy
        db().rollback()
        log.error("health check: database unreachable: %s", exc)
        return str(exc)
    return None


@bp.route("", methods=["GET"])
@bp.route("/", methods=["GET"])
def health() -> Any:
    error = _database_error()
    if error is not None:
        return jsonify({"status": "unhealthy", "error": error}), 503
    return jsonify({"status": "healthy", "service": "mvidarr"})


@bp.route("/status", methods=["GET"])
def status() -> Any:
    error = _database_error()
    healthy = error is None
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "components": {"database": "healthy" if healthy else "unhealthy", "api": "healthy"},
        "timestamp": utcnow().isoformat(),
    }
    if error is not None:
        body["error"] = error
    return jsonify(body), 200 if healthy else 503


@bp.route("/database", methods=["GET"])
def database() -> Any:
    error = _database_error()
    if error is not None:
        return jsonify({"status": "unhealthy", "message": f"Database connection failed: {error}"}), 503
    return jsonify({"status": "healthy", "message": "Database connection successful"})


@bp.route("/imvdb", methods=["GET"])
def imvdb() -> Any:
    result = imvdb_service.test_connection()
    return jsonify(result), 200 if result["status"] == "success" else 503


def _version_file() -> dict[str, Any]:
    try:
        data = json.loads(VERSION_FILE.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@bp.route("/version", methods=["GET"])
def version() -> Any:
    fallback = _version_file()
    commit = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT)
    branch = run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=ROOT)
    return jsonify(
        {
            "version": fallback.get("version", "unknown"),
            "git_commit": commit.stdout.strip() if commit.ok else fallback.get("git_commit", "unknown"),
            "git_branch": branch.stdout.strip() if branch.ok else fallback.get("git_branch", "unknown"),
        }
    )


def _disk() -> dict[str, Any]:
    result = run(["df", "-P", "-k", str(ROOT)])
    lines = result.stdout.strip().splitlines()
    if not result.ok or len(lines) < 2:
        return {"available": False, "error": result.error or "unexpected df output"}
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


def _memory() -> dict[str, Any]:
    result = run(["free", "-b"])
    row = next((line.split() for line in result.stdout.splitlines() if line.startswith("Mem:")), None)
    if not result.ok or row is None:
        return {"available": False, "error": result.error or "unexpected free output"}
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


_LOAD = re.compile(r"load averages?:\s*([\d.,]+)[,\s]+([\d.,]+)[,\s]+([\d.,]+)")
_UP = re.compile(r"\bup\s+(.*?),\s+\d+\s+users?", re.IGNORECASE)


def _load() -> dict[str, Any]:
    result = run(["uptime"])
    match = _LOAD.search(result.stdout)
    if not result.ok or match is None:
        return {"available": False, "error": result.error or "unexpected uptime output"}
    one, five, fifteen = (float(v.rstrip(",").replace(",", ".")) for v in match.groups())
    up = _UP.search(result.stdout)
    return {
        "available": True,
        "load_1m": one,
        "load_5m": five,
        "load_15m": fifteen,
        "uptime": up.group(1).strip() if up else result.stdout.strip(),
    }


def _processes() -> dict[str, Any]:
    result = run(["ps", "-eo", "pid,pcpu,pmem,comm", "--sort=-pcpu"])
    lines = result.stdout.strip().splitlines()
    if not result.ok or not lines:
        return {"available": False, "error": result.error or "unexpected ps output", "top": []}
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


@bp.route("/system", methods=["GET"])
def system() -> Any:
    body = {
        "status": "ok",
        "disk": _disk(),
        "memory": _memory(),
        "load": _load(),
        "processes": _processes(),
        "service": systemd_state("mvidarr"),
        "timestamp": utcnow().isoformat(),
    }
    problems = [name for name in ("disk", "memory", "load", "processes") if not body[name]["available"]]
    if problems:
        body["status"] = "degraded"
        body["unavailable"] = problems
    return jsonify(body)
