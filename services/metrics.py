"""`GET /metrics`: the services' Prometheus text (provider calls, system commands, ...)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from services.auth.access import PUBLIC

router = APIRouter(tags=["metrics"], dependencies=[PUBLIC])  # scraped by Prometheus, like /healthz


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
