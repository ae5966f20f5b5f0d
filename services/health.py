"""`/healthz`: the gateway's health check (process up and database reachable)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from services._legacy_json import LegacyJSONResponse

logger = logging.getLogger("services.health")

router = APIRouter(tags=["health"])


class HealthRead(BaseModel):
    status: str
    database: str


@router.get("/healthz", response_model=HealthRead, responses={503: {"model": HealthRead}})
async def healthz(request: Request) -> LegacyJSONResponse:
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        logger.warning("health.database_down error=%s", type(exc).__name__)
        return LegacyJSONResponse({"status": "unhealthy", "database": "down"}, status_code=503)
    return LegacyJSONResponse({"status": "ok", "database": "ok"})
