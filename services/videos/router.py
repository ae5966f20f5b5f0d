"""`/api/videos` with the legacy contract (legacy_flask/api/videos.py).

Pagination is `limit`/`offset` (no limit: every row), sorting `sort`/`order` (an unknown key
sorts by title), statuses are the uppercase enum names, and a query value `int()` refuses
falls back to its default, exactly as legacy's `request.args.get(..., type=int)`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import ColumnElement, String, cast, func, or_, select

from services._bounds import compare, row_id, window
from services._legacy_http import arg_flag, arg_int, iso, json_body, legacy_json
from services._legacy_json import LegacyJSONResponse
from services._validators import validate_body
from services.auth.access import DELETE_CONTENT, MODIFY_CONTENT
from services.auth.current_user import get_optional_user
from services.db import SessionDep
from services.errors import legacy_error
from services.guard import LEGACY_GUARD
from services.models import Artist, Video, VideoStatus
from services.playlists.stats import refresh_playlist_stats
from services.schemas import error_responses, json_body_doc
from services.videos.repository import VideoRepository
from services.videos.schemas import (
    VideoBase,
    VideoCreate,
    VideoCreated,
    VideoCreateFields,
    VideoDelete,
    VideoDeleted,
    VideoDetailRead,
    VideoList,
    VideoSearchResult,
    VideoStatusChanged,
    VideoStatusUpdate,
    VideoUpdate,
)

router = APIRouter(prefix="/api/videos", tags=["videos"], dependencies=[LEGACY_GUARD])

SETTABLE_STATUSES = ("WANTED", "DOWNLOADING", "DOWNLOADED", "FAILED", "IGNORED")
QueryText = Annotated[str | None, Query()]


def video_dict(row: Any, *, genres: bool = False) -> dict[str, Any]:
    """A Video plus `artist_name` (or any row with those attributes) as legacy's `video_dict`."""
    status = row.status
    data: dict[str, Any] = {
        "id": row.id,
        "title": row.title,
        "artist_id": row.artist_id,
        "artist_name": row.artist_name,
        "status": status.value if isinstance(status, VideoStatus) else status,
        "imvdb_id": row.imvdb_id,
        "video_url": row.youtube_url or row.url,
        "local_path": row.local_path,
        "thumbnail_url": row.thumbnail_url,
        "duration": row.duration,
        "quality": row.quality,
        "year": row.year,
        "video_metadata": row.video_metadata,
        "created_at": iso(row.created_at),
    }
    if genres:
        data["genres"] = row.genres or []
    return data


def video_dicts(rows: Iterable[Sequence[Any]], *, genres: bool = False) -> list[dict[str, Any]]:
    """`video_dict` of many `VideoRepository.rows()` rows, read by position: a Row's attribute
    lookup costs about four times an unpacking, and a list page makes 750 of them."""
    dicts = []
    for row in rows:
        (id_, title, artist_id, status, imvdb_id, youtube_url, url, local_path, thumbnail_url,
         duration, quality, year, video_metadata, created_at, *rest) = row  # fmt: skip
        data: dict[str, Any] = {
            "id": id_,
            "title": title,
            "artist_id": artist_id,
            "artist_name": rest[1] if genres else rest[0],
            "status": status.value if isinstance(status, VideoStatus) else status,
            "imvdb_id": imvdb_id,
            "video_url": youtube_url or url,
            "local_path": local_path,
            "thumbnail_url": thumbnail_url,
            "duration": duration,
            "quality": quality,
            "year": year,
            "video_metadata": video_metadata,
            "created_at": iso(created_at),
        }
        if genres:
            data["genres"] = rest[0] or []
        dicts.append(data)
    return dicts


class _WithArtist:
    """A Video seen through `video_dict` with its artist's name."""

    def __init__(self, video: Video, artist_name: str | None) -> None:
        self._video = video
        self.artist_name = artist_name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._video, name)


@router.get("/", response_model=VideoList)
async def list_videos(
    request: Request,
    session: SessionDep,
    sort: QueryText = "title",
    order: QueryText = "asc",
    limit: QueryText = None,
    offset: QueryText = None,
) -> LegacyJSONResponse:
    limit_value = arg_int(request, "limit")
    offset_value = arg_int(request, "offset", 0) or 0
    limit_sql, offset_sql = window(limit=limit_value, offset=max(offset_value, 0))
    rows, total = await VideoRepository(session).list_page(
        sort=sort, order=order, limit=limit_sql, offset=offset_sql
    )
    videos = video_dicts(rows)
    return legacy_json(
        {"videos": videos, "count": len(videos), "total": total, "offset": offset_value, "limit": limit_value}
    )


def _parse_date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def _text(request: Request, *names: str) -> str:
    for name in names:
        value = request.query_params.get(name)
        if value:
            return value.strip()
    return ""


@router.get("/search", response_model=VideoSearchResult, responses=error_responses(400))
async def search_videos(
    request: Request,
    session: SessionDep,
    q: QueryText = None,
    artist_name: QueryText = None,
    artist: QueryText = None,
    status: QueryText = None,
    year: QueryText = None,
    year_from: QueryText = None,
    year_to: QueryText = None,
    genre: QueryText = None,
    quality: QueryText = None,
    has_thumbnail: QueryText = None,
    source: QueryText = None,
    duration_min: QueryText = None,
    duration_max: QueryText = None,
    date_from: QueryText = None,
    date_to: QueryText = None,
    keywords: QueryText = None,
    sort_by: QueryText = None,
    sort: QueryText = None,
    sort_order: QueryText = None,
    order: QueryText = None,
    limit: QueryText = None,
    offset: QueryText = None,
) -> LegacyJSONResponse:
    args = request.query_params
    q_text = (args.get("q") or "").strip()
    artist_text = _text(request, "artist_name", "artist")
    status_text = (args.get("status") or "").strip().upper()
    year_v, year_from_v, year_to_v = (arg_int(request, n) for n in ("year", "year_from", "year_to"))
    genre_text = (args.get("genre") or "").strip()
    quality_text = (args.get("quality") or "").strip()
    thumb = arg_flag(request, "has_thumbnail")
    source_text = (args.get("source") or "").strip()
    duration_min_v, duration_max_v = arg_int(request, "duration_min"), arg_int(request, "duration_max")
    date_from_raw, date_to_raw = args.get("date_from"), args.get("date_to")
    keywords_text = (args.get("keywords") or "").strip()
    sort_key = args.get("sort_by") or args.get("sort") or "title"
    order_key = args.get("sort_order") or args.get("order") or "asc"
    limit_value = arg_int(request, "limit", 100)
    offset_value = arg_int(request, "offset", 0) or 0
    limit_sql, offset_sql = window(limit=limit_value, offset=max(offset_value, 0))

    filters: list[ColumnElement[bool]] = []
    if q_text:
        like = f"%{q_text}%"
        filters.append(or_(Video.title.ilike(like), Artist.name.ilike(like)))
    if artist_text:
        filters.append(Artist.name.ilike(f"%{artist_text}%"))
    if status_text:
        if status_text not in VideoStatus.__members__:
            raise legacy_error(400, f"Invalid status: {status_text}")
        filters.append(Video.status == VideoStatus[status_text])
    if year_v is not None:
        filters.append(compare(Video.year, operator.eq, year_v))
    if year_from_v is not None:
        filters.append(compare(Video.year, operator.ge, year_from_v))
    if year_to_v is not None:
        filters.append(compare(Video.year, operator.le, year_to_v))
    if genre_text:
        filters.append(cast(Video.genres, String).ilike(f"%{genre_text}%"))
    if quality_text:
        filters.append(Video.quality == quality_text)
    if thumb is True:
        filters += [Video.thumbnail_url.isnot(None), Video.thumbnail_url != ""]
    elif thumb is False:
        filters.append(or_(Video.thumbnail_url.is_(None), Video.thumbnail_url == ""))
    if source_text:
        filters.append(Video.source == source_text)
    if duration_min_v is not None:
        filters.append(compare(Video.duration, operator.ge, duration_min_v))
    if duration_max_v is not None:
        filters.append(compare(Video.duration, operator.le, duration_max_v))
    start, end = _parse_date(date_from_raw), _parse_date(date_to_raw)
    if start is not None:
        filters.append(Video.created_at >= start)
    if end is not None:
        filters.append(Video.created_at <= end)
    if keywords_text:
        like = f"%{keywords_text}%"
        filters.append(
            or_(Video.search_keywords.ilike(like), Video.description.ilike(like), Video.title.ilike(like))
        )

    repo = VideoRepository(session)
    rows, total = await repo.page(
        stmt=repo.rows(genres=True),
        filters=filters,
        needs_artist=bool(q_text or artist_text),
        sort=sort_key,
        order=order_key,
        limit=limit_sql,
        offset=offset_sql,
    )
    videos = video_dicts(rows, genres=True)
    echo = {
        "q": q_text or None,
        "artist": artist_text or None,
        "status": status_text or None,
        "year": year_v,
        "year_from": year_from_v,
        "year_to": year_to_v,
        "genre": genre_text or None,
        "quality": quality_text or None,
        "has_thumbnail": thumb,
        "source": source_text or None,
        "duration_min": duration_min_v,
        "duration_max": duration_max_v,
        "date_from": date_from_raw,
        "date_to": date_to_raw,
        "keywords": keywords_text or None,
        "sort": sort_key,
        "order": order_key,
    }
    return legacy_json(
        {
            "videos": videos,
            "count": len(videos),
            "total": total,
            "offset": offset_value,
            "limit": limit_value,
            "filters": echo,
        }
    )


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
    validate_body(VideoCreateFields, data)
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


async def _video_or_404(session: SessionDep, video_id: int) -> Video:
    video = await session.get(Video, video_id) if row_id(video_id) is not None else None
    if video is None:
        raise legacy_error(404, "Video not found")
    return video


@router.get("/{video_id:int}", response_model=VideoDetailRead, responses=error_responses(404))
async def get_video(video_id: int, session: SessionDep) -> LegacyJSONResponse:
    stmt = VideoRepository(session).rows(genres=True).where(Video.id == video_id)
    row = (await session.execute(stmt)).first() if row_id(video_id) is not None else None
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
    validate_body(VideoBase, data)
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
    return legacy_json(video_dict(_WithArtist(video, artist_name), genres=True))


@router.put(
    "/{video_id:int}/status",
    dependencies=[MODIFY_CONTENT],
    response_model=VideoStatusChanged,
    responses=error_responses(400, 404),
    openapi_extra=json_body_doc(VideoStatusUpdate),
)
async def update_video_status(video_id: int, request: Request, session: SessionDep) -> LegacyJSONResponse:
    video = await _video_or_404(session, video_id)
    data = await json_body(request) or {}
    raw = data.get("status")
    if not raw:
        raise legacy_error(400, "Status is required")
    status = str(raw).upper()
    if status not in SETTABLE_STATUSES:
        raise legacy_error(400, f"Invalid status. Must be one of: {', '.join(SETTABLE_STATUSES)}")
    old = video.status.value
    video.status = VideoStatus[status]
    await session.flush()
    return legacy_json(
        {
            "success": True,
            "message": f"Video status updated from {old} to {status}",
            "video_id": video.id,
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
