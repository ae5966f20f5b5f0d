"""`POST /api/metadata-enrichment/enrich/<artist_id>` and `POST /api/videos/<id>/refresh-metadata`
with the legacy contract, plus the bulk `POST /api/metadata-enrichment/enrich` (new).

The bulk endpoint answers NDJSON as it goes: one line per artist when its enrichment ends
(`{"artist_id", "done", "total", "result"}` or `... "error"`), then a summary line with
`"finished": true`. Artists run with bounded concurrency (`enrichment_bulk_concurrency`); the
providers' rate limiters are shared, so every limit holds however many run at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services._bounds import row_id
from services._legacy_http import flag, json_body
from services._legacy_json import LegacyJSONResponse
from services.auth.access import MODIFY_CONTENT
from services.db import SessionDep
from services.enrichment.service import ArtistNotFound, Enricher
from services.enrichment.store import EnrichmentStore, create_store
from services.errors import legacy_error
from services.guard import LEGACY_GUARD
from services.providers import provider_lifespan
from services.settings import Settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = app.state
    traced = getattr(state, "tracer_provider", None) is not None
    state.enrichment_store = create_store(state.settings, state.engine, state.read_engine, traced=traced)
    async with provider_lifespan(app):
        yield


router = APIRouter(prefix="/api", tags=["enrichment"], dependencies=[LEGACY_GUARD], lifespan=lifespan)

MAX_BULK = 1000
_TRUE = {"true", "1", "yes"}


def enricher(request: Request) -> Enricher:
    state = request.app.state
    store: EnrichmentStore = state.enrichment_store
    return Enricher(
        state.sessionmaker,
        state.settings_cache,
        state.providers,
        store.write_lock,  # the video refresh queues behind the same SQLite writer
        getattr(state, "read_sessionmaker", None),
        store,
    )


async def release(session: AsyncSession) -> None:
    """End the request's own transaction (the login guard's read) before the slow part, so no
    pooled connection waits on the providers; enrichment opens its own short sessions."""
    await session.commit()


@router.post("/metadata-enrichment/enrich/{artist_id:int}", dependencies=[MODIFY_CONTENT])
async def enrich_artist(request: Request, artist_id: int, session: SessionDep) -> LegacyJSONResponse:
    await release(session)
    force = request.query_params.get("force", "").lower() in _TRUE
    body = await json_body(request)
    if body is not None and body.get("force_refresh") is True:
        force = True
    try:
        result = await enricher(request).enrich_artist(artist_id, force_refresh=force)
    except ArtistNotFound:
        raise legacy_error(404, "Artist not found") from None
    return LegacyJSONResponse(result.to_dict())


@router.post("/videos/{video_id:int}/refresh-metadata", dependencies=[MODIFY_CONTENT])
async def refresh_metadata(request: Request, video_id: int, session: SessionDep) -> LegacyJSONResponse:
    await release(session)
    refreshed = await enricher(request).refresh_video(video_id)
    if refreshed is None:
        raise legacy_error(404, "Video not found")
    result, video = refreshed
    data = result.to_dict()
    data.pop("artist_id")
    data.pop("skipped")
    message = (
        f"Metadata refreshed from {', '.join(result.sources_used)}"
        if result.sources_used
        else "No metadata found for this video"
    )
    return LegacyJSONResponse({**data, "video_id": video["id"], "message": message, "video": video})


def _artist_ids(body: dict[str, Any] | None) -> list[int]:
    ids = (body or {}).get("artist_ids")
    if not isinstance(ids, list) or not ids:
        raise legacy_error(400, "artist_ids must be a non-empty list of artist ids")
    if len(ids) > MAX_BULK:
        raise legacy_error(400, f"At most {MAX_BULK} artists per request")
    # Checked before the stream starts: once its 200 is sent, a refusal can no longer be a 4xx.
    if not all(isinstance(i, int) and not isinstance(i, bool) and row_id(i) is not None for i in ids):
        raise legacy_error(400, "artist_ids must be a non-empty list of artist ids")
    return list(dict.fromkeys(ids))


@router.post("/metadata-enrichment/enrich", dependencies=[MODIFY_CONTENT])
async def enrich_many(request: Request, session: SessionDep) -> StreamingResponse:
    await release(session)
    body = await json_body(request)
    ids = _artist_ids(body)
    force = flag((body or {}).get("force_refresh", False))
    service = enricher(request)
    settings: Settings = request.app.state.settings
    return StreamingResponse(
        _bulk(service, ids, force, settings.enrichment_bulk_concurrency), media_type="application/x-ndjson"
    )


async def _bulk(service: Enricher, ids: list[int], force: bool, concurrency: int) -> AsyncIterator[str]:
    gate = asyncio.Semaphore(concurrency)
    total, done, succeeded = len(ids), 0, 0

    async def one(artist_id: int) -> dict[str, Any]:
        async with gate:
            try:
                result = await service.enrich_artist(artist_id, force_refresh=force)
            except ArtistNotFound:
                return {"artist_id": artist_id, "error": "Artist not found"}
            return {"artist_id": artist_id, "result": result.to_dict()}

    tasks = [asyncio.ensure_future(one(i)) for i in ids]
    try:
        for next_done in asyncio.as_completed(tasks):
            line = await next_done
            done += 1
            succeeded += 1 if line.get("result", {}).get("success") else 0
            yield json.dumps({**line, "done": done, "total": total}) + "\n"
    finally:
        for task in tasks:  # the client went away: stop asking the providers
            task.cancel()
    yield json.dumps({"finished": True, "done": done, "total": total, "succeeded": succeeded}) + "\n"
