"""`/api/health*` with legacy's contract (legacy_flask/api/health.py): database probes, version
from git, and `/system`, whose five commands run concurrently through the async runner.
Public, like legacy (its login guard exempts `/api/health`)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog
from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from services._legacy_json import LegacyJSONResponse
from services.auth.access import PUBLIC
from services.db import SessionDep
from services.enrichment.service import Enricher
from services.models import utcnow
from services.settings import ROOT, Settings
from services.system import probes
from services.system.loop_monitor import loop_monitor
from services.system.runtime import command_runner, repo_path

log = structlog.get_logger("services.health")

# The loop monitor lives as long as the app (it is this router's lifespan): see loop_monitor.py.
router = APIRouter(prefix="/api/health", tags=["health"], dependencies=[PUBLIC], lifespan=loop_monitor)


async def _database_error(request: Request) -> str | None:
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        log.error("health.database_unreachable", error=type(exc).__name__)
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


@router.get("")
@router.get("/")
async def health(request: Request) -> LegacyJSONResponse:
    error = await _database_error(request)
    if error is not None:
        return LegacyJSONResponse({"status": "unhealthy", "error": error}, status_code=503)
    return LegacyJSONResponse({"status": "healthy", "service": "mvidarr"})


@router.get("/status")
async def status(request: Request) -> LegacyJSONResponse:
    error = await _database_error(request)
    healthy = error is None
    body: dict[str, Any] = {
        "status": "healthy" if healthy else "unhealthy",
        "components": {"database": "healthy" if healthy else "unhealthy", "api": "healthy"},
        "timestamp": utcnow().isoformat(),
    }
    if error is not None:
        body["error"] = error
    return LegacyJSONResponse(body, status_code=200 if healthy else 503)


@router.get("/database")
async def database(request: Request) -> LegacyJSONResponse:
    error = await _database_error(request)
    if error is not None:
        return LegacyJSONResponse(
            {"status": "unhealthy", "message": f"Database connection failed: {error}"}, status_code=503
        )
    return LegacyJSONResponse({"status": "healthy", "message": "Database connection successful"})


@router.get("/imvdb")
async def imvdb(request: Request, session: SessionDep) -> LegacyJSONResponse:
    state = request.app.state
    keys = await Enricher(state.sessionmaker, state.settings_cache, state.providers).keys(session)
    await session.commit()  # no connection held while IMVDb answers
    result = await state.providers.imvdb(keys).test_connection()
    return LegacyJSONResponse(result, status_code=200 if result["status"] == "success" else 503)


def _read_version_file(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(repo_path(raw).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@router.get("/version")
async def version(request: Request) -> LegacyJSONResponse:
    settings: Settings = request.app.state.settings
    runner = command_runner(request)
    fallback, commit, branch = await asyncio.gather(
        asyncio.to_thread(_read_version_file, settings.version_file),  # a file read, off the loop
        runner.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT),
        runner.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=ROOT),
    )
    return LegacyJSONResponse(
        {
            "version": fallback.get("version", "unknown"),
            "git_commit": commit.stdout.strip() if commit.ok else fallback.get("git_commit", "unknown"),
            "git_branch": branch.stdout.strip() if branch.ok else fallback.get("git_branch", "unknown"),
        }
    )


@router.get("/system")
async def system(request: Request) -> LegacyJSONResponse:
    settings: Settings = request.app.state.settings
    runner = command_runner(request)
    disk, memory, load, processes, service = await asyncio.gather(
        probes.disk(runner, ROOT),
        probes.memory(runner),
        probes.load(runner),
        probes.processes(runner),
        probes.systemd_state(runner, settings.service_unit),
    )
    body: dict[str, Any] = {
        "status": "ok",
        "disk": disk,
        "memory": memory,
        "load": load,
        "processes": processes,
        "service": service,
        "timestamp": utcnow().isoformat(),
    }
    problems = [name for name in ("disk", "memory", "load", "processes") if not body[name]["available"]]
    if problems:
        body["status"] = "degraded"
        body["unavailable"] = problems
    return LegacyJSONResponse(body)
