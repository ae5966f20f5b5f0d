"""`/api/artists` with the legacy contract (legacy_flask/api/artists.py).

Pagination is `page`/`per_page` with `pages` and a `query_time` in seconds; every listed
artist carries its `video_count`, from one grouped subquery joined to the page.
"""

from __future__ import annotations

import math
import operator
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import ColumnElement, or_

from services._bounds import compare, row_id
from services._direct_route import direct
from services._legacy_http import arg_flag, arg_int, flag, iso, json_body, legacy_json
from services._legacy_json import LegacyJSONResponse
from services._validators import validate_body
from services.artists.repository import ArtistRepository, video_count_column
from services.artists.schemas import (
    ArtistCreate,
    ArtistCreated,
    ArtistDeleted,
    ArtistFields,
    ArtistList,
    ArtistRead,
    ArtistSettingsUpdate,
    ArtistSettingsUpdated,
    ArtistUpdate,
    ArtistUpdated,
)
from services.auth.access import DELETE_CONTENT, MODIFY_CONTENT
from services.db import SessionDep
from services.errors import LegacyError, legacy_error
from services.guard import LEGACY_GUARD
from services.models import Artist
from services.playlists.stats import refresh_playlist_stats
from services.schemas import error_responses, json_body_doc

router = APIRouter(prefix="/api/artists", tags=["artists"], dependencies=[LEGACY_GUARD])

DEFAULT_PER_PAGE = 50
SETTINGS_FIELDS = frozenset({"auto_download", "monitored", "keywords", "folder_path"})
QueryText = Annotated[str | None, Query()]


def list_item(row: Any) -> dict[str, Any]:
    """One `ArtistRepository.page()` row, read by position (cheaper than a Row's attributes)."""
    (id_, name, imvdb_id, thumbnail_url, thumbnail_path, auto_download, keywords, monitored,
     created_at, folder_path, imvdb_metadata, video_count, *_total) = row  # fmt: skip
    return {
        "id": id_,
        "name": name,
        "imvdb_id": imvdb_id,
        "thumbnail_url": thumbnail_url,
        "auto_download": auto_download,
        "keywords": keywords or [],
        "monitored": monitored,
        "created_at": iso(created_at),
        "video_count": int(video_count),
        "folder_path": folder_path,
        "has_thumbnail": bool(thumbnail_url or thumbnail_path),
        "has_imvdb_data": bool(imvdb_metadata),
    }


async def detail(repo: ArtistRepository, artist: Artist) -> dict[str, Any]:
    return {
        "id": artist.id,
        "name": artist.name,
        "imvdb_id": artist.imvdb_id,
        "thumbnail_url": artist.thumbnail_url,
        "auto_download": artist.auto_download,
        "keywords": artist.keywords or [],
        "monitored": artist.monitored,
        "metadata": artist.imvdb_metadata,
        "genres": artist.genres or [],
        "video_count": await repo.video_count(artist_id=artist.id),
        "created_at": iso(artist.created_at),
    }


@direct(router, "GET", "/", response_model=ArtistList)
async def list_artists(
    request: Request,
    session: SessionDep,
    page: QueryText = None,
    per_page: QueryText = None,
    sort: QueryText = "name",
    order: QueryText = "asc",
    search: QueryText = None,
    monitored: QueryText = None,
    auto_download: QueryText = None,
    has_thumbnail: QueryText = None,
    has_imvdb_id: QueryText = None,
    min_videos: QueryText = None,
    max_videos: QueryText = None,
) -> LegacyJSONResponse:
    started = time.monotonic()
    page_value = max(arg_int(request, "page", 1) or 0, 1)
    per_page_value = max(arg_int(request, "per_page", DEFAULT_PER_PAGE) or 0, 1)
    video_count = video_count_column()

    filters: list[ColumnElement[bool]] = []
    search_text = (request.query_params.get("search") or "").strip()
    if search_text:
        filters.append(Artist.name.ilike(f"%{search_text}%"))
    for name, column in (("monitored", Artist.monitored), ("auto_download", Artist.auto_download)):
        value = arg_flag(request, name)
        if value is not None:
            filters.append(column.is_(value))
    thumb = arg_flag(request, "has_thumbnail")
    if thumb is True:
        filters += [Artist.thumbnail_url.isnot(None), Artist.thumbnail_url != ""]
    elif thumb is False:
        filters.append(or_(Artist.thumbnail_url.is_(None), Artist.thumbnail_url == ""))
    imvdb = arg_flag(request, "has_imvdb_id")
    if imvdb is True:
        filters.append(Artist.imvdb_id.isnot(None))
    elif imvdb is False:
        filters.append(Artist.imvdb_id.is_(None))
    count_filters: list[ColumnElement[bool]] = []
    min_v, max_v = arg_int(request, "min_videos"), arg_int(request, "max_videos")
    if min_v is not None:
        count_filters.append(compare(video_count, operator.ge, min_v))
    if max_v is not None:
        count_filters.append(compare(video_count, operator.le, max_v))

    rows, total = await ArtistRepository(session).page(
        filters=filters,
        count_filters=count_filters,
        video_count=video_count,
        sort=sort if sort is not None else "name",
        order=order if order is not None else "asc",
        page=page_value,
        per_page=per_page_value,
    )
    artists = [list_item(row) for row in rows]
    return legacy_json(
        {
            "artists": artists,
            "count": len(artists),
            "total": total,
            "page": page_value,
            "per_page": per_page_value,
            "pages": math.ceil(total / per_page_value) if total else 0,
            "query_time": round(time.monotonic() - started, 4),
        }
    )


@router.post(
    "/",
    dependencies=[MODIFY_CONTENT],
    status_code=201,
    response_model=ArtistCreated,
    responses=error_responses(400, 409),
    openapi_extra=json_body_doc(ArtistCreate),
)
async def create_artist(request: Request, session: SessionDep) -> LegacyJSONResponse:
    data = await json_body(request) or {}
    name = str(data.get("name") or "").strip()
    if not name:
        raise legacy_error(400, "Artist name is required")
    repo = ArtistRepository(session)
    imvdb_id = str(data["imvdb_id"]) if data.get("imvdb_id") else None
    if await repo.name_taken(name=name) or (imvdb_id and await repo.imvdb_id_taken(imvdb_id=imvdb_id)):
        raise legacy_error(409, "Artist already exists")
    validate_body(
        ArtistFields, data, read=("folder_path",), session=repo.session
    )  # the only one of them create copies
    artist = await repo.create(
        name=name,
        imvdb_id=imvdb_id,
        folder_path=data.get("folder_path"),
        auto_download=flag(data.get("auto_download", False)),
        keywords=data.get("keywords") or [],
        monitored=flag(data.get("monitored", True)),
        source="manual",
    )
    return legacy_json({"id": artist.id, "name": artist.name, "message": "Artist added successfully"}, 201)


async def _artist_or_404(session: SessionDep, artist_id: int) -> Artist:
    artist = await session.get(Artist, artist_id) if row_id(artist_id) is not None else None
    if artist is None:
        raise legacy_error(404, "Artist not found")
    return artist


@router.get("/{artist_id:int}", response_model=ArtistRead, responses=error_responses(404))
async def get_artist(artist_id: int, session: SessionDep) -> LegacyJSONResponse:
    artist = await _artist_or_404(session, artist_id)
    return legacy_json(await detail(ArtistRepository(session), artist))


async def _apply(repo: ArtistRepository, artist: Artist, data: dict[str, Any]) -> None:
    """Copy the editable fields, as legacy's `_apply`; a refused value raises its legacy error."""
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name:
            raise legacy_error(400, "Artist name cannot be empty")
        if await repo.name_taken(name=name, exclude_id=artist.id):
            raise legacy_error(409, "Artist already exists")
        artist.name = name
    if "imvdb_id" in data:
        imvdb_id = str(data["imvdb_id"]) if data["imvdb_id"] else None
        if imvdb_id and await repo.imvdb_id_taken(imvdb_id=imvdb_id, exclude_id=artist.id):
            raise legacy_error(409, "Another artist already has this IMVDb ID")
        artist.imvdb_id = imvdb_id
    validate_body(ArtistFields, data, session=repo.session)
    for field in ("auto_download", "monitored"):
        if field in data:
            setattr(artist, field, flag(data[field]))
    for field in ("keywords", "folder_path", "thumbnail_url", "genres", "spotify_id", "lastfm_name"):
        if field in data:
            setattr(artist, field, data[field])


@router.put(
    "/{artist_id:int}",
    dependencies=[MODIFY_CONTENT],
    response_model=ArtistUpdated,
    responses=error_responses(400, 404, 409),
    openapi_extra=json_body_doc(ArtistUpdate),
)
async def update_artist(artist_id: int, request: Request, session: SessionDep) -> LegacyJSONResponse:
    artist = await _artist_or_404(session, artist_id)
    data = await json_body(request)
    if data is None:
        raise legacy_error(400, "No data provided")
    repo = ArtistRepository(session)
    await _apply(repo, artist, data)
    await session.flush()
    return legacy_json(
        {"success": True, "message": "Artist updated successfully", "artist": await detail(repo, artist)}
    )


@router.put(
    "/{artist_id:int}/settings",
    dependencies=[MODIFY_CONTENT],
    response_model=ArtistSettingsUpdated,
    responses=error_responses(400, 404),
    openapi_extra=json_body_doc(ArtistSettingsUpdate),
)
async def update_artist_settings(artist_id: int, request: Request, session: SessionDep) -> LegacyJSONResponse:
    artist = await _artist_or_404(session, artist_id)
    data = await json_body(request)
    if data is None:
        raise legacy_error(400, "No data provided")
    allowed = {
        k: v for k, v in data.items() if k in {"auto_download", "monitored", "keywords", "folder_path"}
    }
    await _apply(ArtistRepository(session), artist, allowed)
    await session.flush()
    return legacy_json(
        {
            "message": "Artist settings updated successfully",
            "artist": {
                "id": artist.id,
                "auto_download": artist.auto_download,
                "monitored": artist.monitored,
                "keywords": artist.keywords or [],
                "folder_path": artist.folder_path,
            },
        }
    )


@router.delete(
    "/{artist_id:int}",
    dependencies=[DELETE_CONTENT],
    response_model=ArtistDeleted,
    responses=error_responses(404, 409),
)
async def delete_artist(
    artist_id: int, request: Request, session: SessionDep, force: QueryText = None
) -> LegacyJSONResponse:
    artist = await _artist_or_404(session, artist_id)
    repo = ArtistRepository(session)
    video_ids, download_count = await repo.dependents(artist_id=artist.id)
    if (video_ids or download_count) and not flag(request.query_params.get("force", "false")):
        raise LegacyError(
            409,
            {
                "error": "Artist has associated videos or downloads",
                "details": {
                    "video_count": len(video_ids),
                    "download_count": download_count,
                    "message": "Use force=true to delete the artist with its videos and downloads",
                },
            },
        )
    name = artist.name
    playlist_ids = await repo.delete_cascade(artist, video_ids=video_ids)
    await refresh_playlist_stats(session, playlist_ids)
    return legacy_json(
        {
            "success": True,
            "message": f"Artist '{name}' deleted successfully",
            "deleted_videos": len(video_ids),
            "deleted_downloads": download_count,
        }
    )
