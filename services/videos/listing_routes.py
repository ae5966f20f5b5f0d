"""`GET /api/videos/` and `GET /api/videos/search`: pages of videos (legacy_flask/api/videos.py)."""

from __future__ import annotations

import operator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import ColumnElement, String, cast, or_, select

from services._bounds import compare, window
from services._direct_route import direct
from services._legacy_http import arg_flag, arg_int, legacy_json
from services._legacy_json import LegacyJSONResponse
from services.db import SessionDep
from services.errors import legacy_error
from services.models import VideoStatus
from services.schemas import error_responses
from services.videos.render import video_dicts
from services.videos.repository import ARTIST_COLUMNS as A
from services.videos.repository import VIDEO_COLUMNS as V
from services.videos.repository import VideoRepository
from services.videos.schemas import (
    VideoList,
    VideoSearchResult,
)

router = APIRouter()  # mounted by services/videos/router.py (prefix, tag, legacy guard)

QueryText = Annotated[str | None, Query()]


@direct(router, "GET", "/", response_model=VideoList)
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


def _artist_named(like: str) -> ColumnElement[bool]:
    """The video's artist's name matches `like` (ILIKE), as the 200 artists' ids matching it:
    the same rows as `artists.name ILIKE` through the join (every video has its artist; a
    missing one matches neither way), but MariaDB folds and matches 200 names once instead of
    the joined name of each of the 5,000 videos (`python -m bench.search_plan`: 8.2 -> 4.0 ms)."""
    return V.artist_id.in_(select(A.id).where(A.name.ilike(like)))


def _text(request: Request, *names: str) -> str:
    for name in names:
        value = request.query_params.get(name)
        if value:
            return value.strip()
    return ""


@direct(
    router,
    "GET",
    "/search",
    response_model=VideoSearchResult,
    responses=error_responses(400),
)
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
        filters.append(or_(V.title.ilike(like), _artist_named(like)))
    if artist_text:
        filters.append(_artist_named(f"%{artist_text}%"))
    if status_text:
        if status_text not in VideoStatus.__members__:
            raise legacy_error(400, f"Invalid status: {status_text}")
        filters.append(V.status == VideoStatus[status_text])
    if year_v is not None:
        filters.append(compare(V.year, operator.eq, year_v))
    if year_from_v is not None:
        filters.append(compare(V.year, operator.ge, year_from_v))
    if year_to_v is not None:
        filters.append(compare(V.year, operator.le, year_to_v))
    if genre_text:
        filters.append(cast(V.genres, String).ilike(f"%{genre_text}%"))
    if quality_text:
        filters.append(V.quality == quality_text)
    if thumb is True:
        filters += [V.thumbnail_url.isnot(None), V.thumbnail_url != ""]
    elif thumb is False:
        filters.append(or_(V.thumbnail_url.is_(None), V.thumbnail_url == ""))
    if source_text:
        filters.append(V.source == source_text)
    if duration_min_v is not None:
        filters.append(compare(V.duration, operator.ge, duration_min_v))
    if duration_max_v is not None:
        filters.append(compare(V.duration, operator.le, duration_max_v))
    start, end = _parse_date(date_from_raw), _parse_date(date_to_raw)
    if start is not None:
        filters.append(V.created_at >= start)
    if end is not None:
        filters.append(V.created_at <= end)
    if keywords_text:
        like = f"%{keywords_text}%"
        filters.append(or_(V.search_keywords.ilike(like), V.description.ilike(like), V.title.ilike(like)))

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
