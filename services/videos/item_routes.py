"""One video of `/api/videos`: create, read, update, set its status, delete (legacy_flask/api/videos.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from services._bounds import row_id
from services._direct_route import direct
from services._legacy_http import json_body, legacy_json
from services._legacy_json import LegacyJSONResponse
from services._validators import validate_body
from services.auth.access import DELETE_CONTENT, MODIFY_CONTENT
from services.auth.current_user import get_optional_user
from services.db import SessionDep
from services.errors import legacy_error
from services.models import Artist, Video, VideoStatus
from services.playlists.stats import refresh_playlist_stats
from services.schemas import error_responses, json_body_doc
from services.videos.render import WithArtist, video_dict, video_dicts
from services.videos.repository import VideoRepository
from services.videos.schemas import (
    VideoBase,
    VideoCreate,
    VideoCreated,
    VideoCreateFields,
    VideoDelete,
    VideoDeleted,
    VideoDetailRead,
    VideoStatusChanged,
    VideoStatusUpdate,
    VideoUpdate,
)

router = APIRouter()  # mounted by services/videos/router.py (prefix, tag, legacy guard)

SETTABLE_STATUSES = ("WANTED", "DOWNLOADING", "DOWNLOADED", "FAILED", "IGNORED")


@router.post(
    "/",
    dependencies=[MODIFY_CONTENT],
    status_code=201,
    response_model=VideoCreated,
    responses=error_responses(400, 404, 409),
    openapi_extra=json_body_doc(VideoCreate),
)
async def create_video(request: Request, session: SessionDep) -> LegacyJSONResponse:
    data = await json_body(request)
    if data is None:
        raise legacy_error(400, "No data provided")
    title = str(data.get("title") or "").strip()
    artist_id = data.get("artist_id")
    if not title or artist_id is None:
        raise legacy_error(400, "Title and artist_id are required")
    repo = VideoRepository(session)
    try:  # legacy: session.get(Artist, int(artist_id)), so "3" and 3.7 name artist 3
        wanted: int | None = int(artist_id)
    except (TypeError, ValueError, OverflowError):
        wanted = None
    artist = None
    if wanted is not None and row_id(wanted) is not None:
        artist = await session.get(Artist, wanted)
    if artist is None:
        raise legacy_error(404, "Artist not found")
    imvdb_id = data.get("imvdb_id")
    if imvdb_id and await repo.imvdb_id_taken(imvdb_id=str(imvdb_id)):
        raise legacy_error(409, "Video with this IMVDb ID already exists")
    status = str(data.get("status") or "WANTED").upper()
    if status not in VideoStatus.__members__:
        raise legacy_error(400, f"Invalid status: {status}")
    validate_body(VideoCreateFields, _create_fields_read(data), session=session)
    video = await repo.create(
        artist_id=artist.id,
        title=title,
        imvdb_id=str(imvdb_id) if imvdb_id else None,
        youtube_id=data.get("youtube_id"),
        youtube_url=data.get("video_url") or data.get("youtube_url"),
        thumbnail_url=data.get("thumbnail_url"),
        duration=data.get("duration"),
        year=data.get("year"),
        quality=data.get("quality"),
        genres=data.get("genres") or [],
        source=data.get("source") or "manual",
        status=VideoStatus[status],
    )
    return legacy_json({"id": video.id, "title": video.title, "message": "Video added successfully"}, 201)


def _create_fields_read(data: dict[str, Any]) -> dict[str, Any]:
    """The body's fields as create stores them: legacy keeps `video_url or youtube_url` and
    `source or "manual"`, so a falsy [] or {} in video_url or source, or a youtube_url behind
    a video_url, is never stored and must not be refused."""
    read = {k: v for k, v in data.items() if k not in ("video_url", "youtube_url", "source")}
    url_field = "video_url" if data.get("video_url") else "youtube_url"
    if url_field in data:
        read[url_field] = data[url_field]
    read["source"] = data.get("source") or None
    return read


async def _video_or_404(session: SessionDep, video_id: int) -> Video:
    video = await session.get(Video, video_id) if row_id(video_id) is not None else None
    if video is None:
        raise legacy_error(404, "Video not found")
    return video


@direct(
    router,
    "GET",
    "/{video_id:int}",
    response_model=VideoDetailRead,
    responses=error_responses(404),
)
async def get_video(video_id: int, session: SessionDep) -> LegacyJSONResponse:
    repo = VideoRepository(session)
    row = await repo.detail_row(video_id=video_id) if row_id(video_id) is not None else None
    if row is None:
        raise legacy_error(404, "Video not found")
    return legacy_json(video_dicts([row], genres=True)[0])


@router.put(
    "/{video_id:int}",
    dependencies=[MODIFY_CONTENT],
    response_model=VideoDetailRead,
    responses=error_responses(400, 404, 409),
    openapi_extra=json_body_doc(VideoUpdate),
)
async def update_video(video_id: int, request: Request, session: SessionDep) -> LegacyJSONResponse:
    video = await _video_or_404(session, video_id)
    data = await json_body(request)
    if data is None:
        raise legacy_error(400, "No data provided")
    repo = VideoRepository(session)
    if "title" in data:
        title = str(data["title"] or "").strip()
        if not title:
            raise legacy_error(400, "Title cannot be empty")
        video.title = title
    if "status" in data:
        status = str(data["status"] or "").upper()
        if status not in VideoStatus.__members__:
            raise legacy_error(400, f"Invalid status: {data['status']}")
        video.status = VideoStatus[status]
    if "imvdb_id" in data:
        imvdb_id = str(data["imvdb_id"]) if data["imvdb_id"] else None
        if imvdb_id and await repo.imvdb_id_taken(imvdb_id=imvdb_id, exclude_id=video.id):
            raise legacy_error(409, "Video with this IMVDb ID already exists")
        video.imvdb_id = imvdb_id
    validate_body(VideoBase, data, session=session)
    if "artist_name" in data and str(data["artist_name"] or "").strip():
        name = str(data["artist_name"]).strip()
        artist = await session.scalar(select(Artist).where(func.lower(Artist.name) == name.lower()).limit(1))
        if artist is None:
            artist = Artist(name=name, source="manual")
            session.add(artist)
            await session.flush()
        video.artist_id = artist.id
    if "video_url" in data:
        video.youtube_url = data["video_url"]
    for field in ("year", "thumbnail_url", "duration", "genres", "quality"):
        if field in data:
            setattr(video, field, data[field])
    await session.flush()
    artist_name = await repo.artist_name(artist_id=video.artist_id)
    return legacy_json(video_dict(WithArtist(video, artist_name), genres=True))


@direct(
    router,
    "PUT",
    "/{video_id:int}/status",
    single_write=True,
    dependencies=[MODIFY_CONTENT],
    response_model=VideoStatusChanged,
    responses=error_responses(400, 404),
    openapi_extra=json_body_doc(VideoStatusUpdate),
)
async def update_video_status(video_id: int, request: Request, session: SessionDep) -> LegacyJSONResponse:
    # Two Core statements built once (the status, then an UPDATE only when it changes, as the
    # ORM's flush wrote it) instead of loading the whole Video and flushing it.
    repo = VideoRepository(session)
    current = await repo.status_of(video_id=video_id) if row_id(video_id) is not None else None
    if current is None:
        raise legacy_error(404, "Video not found")
    data = await json_body(request) or {}
    raw = data.get("status")
    if not raw:
        raise legacy_error(400, "Status is required")
    status = str(raw).upper()
    if status not in SETTABLE_STATUSES:
        raise legacy_error(400, f"Invalid status. Must be one of: {', '.join(SETTABLE_STATUSES)}")
    old = current.status.value  # a NULL status fails here, as legacy's `video.status.value` does
    if old != status:
        await repo.set_status(video_id=video_id, status=VideoStatus[status])
    return legacy_json(
        {
            "success": True,
            "message": f"Video status updated from {old} to {status}",
            "video_id": video_id,
            "old_status": old,
            "new_status": status,
        }
    )


@router.delete(
    "/{video_id:int}",
    dependencies=[DELETE_CONTENT],
    response_model=VideoDeleted,
    responses=error_responses(404),
    openapi_extra=json_body_doc(VideoDelete, required=False),
)
async def delete_video(video_id: int, request: Request, session: SessionDep) -> LegacyJSONResponse:
    video = await _video_or_404(session, video_id)
    data = await json_body(request) or {}
    repo = VideoRepository(session)
    artist_name = await repo.artist_name(artist_id=video.artist_id)
    summary = {"id": video.id, "title": video.title, "artist_name": artist_name}
    playlist_ids, entries_removed, downloads_removed = await repo.delete_with_dependents(video)
    blacklisted = False
    url = video.youtube_url or video.url
    # Python truthiness, as legacy: the string "false" blacklists too.
    if data.get("add_to_blacklist") and url:
        user = await get_optional_user(request, session)
        await repo.blacklist(
            url=url, title=video.title, artist_name=artist_name, user_id=user.id if user else None
        )
        blacklisted = True
    await session.delete(video)
    await session.flush()
    await refresh_playlist_stats(session, playlist_ids)
    return legacy_json(
        {
            "message": "Video deleted successfully",
            "video": summary,
            "playlist_entries_removed": entries_removed,
            "downloads_removed": downloads_removed,
            "blacklisted": blacklisted,
        }
    )
