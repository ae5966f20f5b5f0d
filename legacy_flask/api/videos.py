"""`/api/videos`, as MVidarr's src/api/videos.py (the list, search and CRUD core of it).

Pagination is `limit`/`offset` (no limit means every row), sorting is `sort`/`order`, and
statuses are the uppercase enum names. Unexpected faults become the app-wide
`500 {"error": str(e)}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import String, asc, cast, desc, func, or_
from sqlalchemy.orm import Query

from legacy_flask.api._common import arg_flag, error, iso, json_body
from legacy_flask.api.playlists import refresh_playlist_stats
from legacy_flask.auth.decorators import current_user
from legacy_flask.extensions import db
from legacy_flask.models import (
    Artist,
    Download,
    PlaylistEntry,
    Video,
    VideoBlacklist,
    VideoStatus,
)

bp = Blueprint("videos", __name__)

SETTABLE_STATUSES = ("WANTED", "DOWNLOADING", "DOWNLOADED", "FAILED", "IGNORED")
SORT_COLUMNS = {
    "title": Video.title,
    "artist_name": Artist.name,
    "year": Video.year,
    "created_at": Video.created_at,
    "status": Video.status,
    "duration": Video.duration,
}


def video_dict(video: Video, artist_name: str | None, *, genres: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": video.id,
        "title": video.title,
        "artist_id": video.artist_id,
        "artist_name": artist_name,
        "status": video.status.value if video.status else None,
        "imvdb_id": video.imvdb_id,
        "video_url": video.youtube_url or video.url,
        "local_path": video.local_path,
        "thumbnail_url": video.thumbnail_url,
        "duration": video.duration,
        "quality": video.quality,
        "year": video.year,
        "video_metadata": video.video_metadata,
        "created_at": iso(video.created_at),
    }
    if genres:
        data["genres"] = video.genres or []
    return data


def _base_query() -> Query[Any]:
    return db().query(Video, Artist.name).outerjoin(Artist, Video.artist_id == Artist.id)


def _ordered(query: Query[Any], sort: str | None, order: str | None) -> Query[Any]:
    column = SORT_COLUMNS.get(sort or "title", Video.title)
    direction = desc if (order or "asc").lower() == "desc" else asc
    return query.order_by(direction(column), asc(Video.id))


def _page(query: Query[Any], limit: int | None, offset: int) -> tuple[list[Any], int]:
    """One page of (Video, artist name) rows and the total before paging."""
    total = query.order_by(None).count()
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(max(limit, 0))
    return query.all(), total


@bp.route("/", methods=["GET"])
def list_videos() -> Any:
    sort = request.args.get("sort", "title")
    order = request.args.get("order", "asc")
    limit = request.args.get("limit", type=int)
    offset = request.args.get("offset", 0, type=int)
    rows, total = _page(_ordered(_base_query(), sort, order), limit, max(offset, 0))
    videos = [video_dict(video, name) for video, name in rows]
    return jsonify({"videos": videos, "count": len(videos), "total": total, "offset": offset, "limit": limit})


def _parse_date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


@bp.route("/search", methods=["GET"])
def search_videos() -> Any:
    args = request.args
    q = args.get("q", "").strip()
    artist = (args.get("artist_name") or args.get("artist") or "").strip()
    status = (args.get("status") or "").strip().upper()
    year = args.get("year", type=int)
    year_from = args.get("year_from", type=int)
    year_to = args.get("year_to", type=int)
    genre = (args.get("genre") or "").strip()
    quality = (args.get("quality") or "").strip()
    has_thumbnail = arg_flag("has_thumbnail")
    source = (args.get("source") or "").strip()
    duration_min = args.get("duration_min", type=int)
    duration_max = args.get("duration_max", type=int)
    date_from = args.get("date_from")
    date_to = args.get("date_to")
    keywords = (args.get("keywords") or "").strip()
    sort = args.get("sort_by") or args.get("sort") or "title"
    order = args.get("sort_order") or args.get("order") or "asc"
    limit = args.get("limit", 100, type=int)
    offset = args.get("offset", 0, type=int)

    query = _base_query()
    if q:
        like = f"%{q}%"
        query = query.filter(or_(Video.title.ilike(like), Artist.name.ilike(like)))
    if artist:
        query = query.filter(Artist.name.ilike(f"%{artist}%"))
    if status:
        if status not in VideoStatus.__members__:
            return error(f"Invalid status: {status}", 400)
        query = query.filter(Video.status == VideoStatus[status])
    if year is not None:
        query = query.filter(Video.year == year)
    if year_from is not None:
        query = query.filter(Video.year >= year_from)
    if year_to is not None:
        query = query.filter(Video.year <= year_to)
    if genre:
        query = query.filter(cast(Video.genres, String).ilike(f"%{genre}%"))
    if quality:
        query = query.filter(Video.quality == quality)
    if has_thumbnail is True:
        query = query.filter(Video.thumbnail_url.isnot(None), Video.thumbnail_url != "")
    elif has_thumbnail is False:
        query = query.filter(or_(Video.thumbnail_url.is_(None), Video.thumbnail_url == ""))
    if source:
        query = query.filter(Video.source == source)
    if duration_min is not None:
        query = query.filter(Video.duration >= duration_min)
    if duration_max is not None:
        query = query.filter(Video.duration <= duration_max)
    start, end = _parse_date(date_from), _parse_date(date_to)
    if start is not None:
        query = query.filter(Video.created_at >= start)
    if end is not None:
        query = query.filter(Video.created_at <= end)
    if keywords:
        like = f"%{keywords}%"
        query = query.filter(
            or_(Video.search_keywords.ilike(like), Video.description.ilike(like), Video.title.ilike(like))
        )

    rows, total = _page(_ordered(query, sort, order), limit, max(offset, 0))
    videos = [video_dict(video, name, genres=True) for video, name in rows]
    filters = {
        "q": q or None,
        "artist": artist or None,
        "status": status or None,
        "year": year,
        "year_from": year_from,
        "year_to": year_to,
        "genre": genre or None,
        "quality": quality or None,
        "has_thumbnail": has_thumbnail,
        "source": source or None,
        "duration_min": duration_min,
        "duration_max": duration_max,
        "date_from": date_from,
        "date_to": date_to,
        "keywords": keywords or None,
        "sort": sort,
        "order": order,
    }
    return jsonify(
        {
            "videos": videos,
            "count": len(videos),
            "total": total,
            "offset": offset,
            "limit": limit,
            "filters": filters,
        }
    )


def _artist_name(artist_id: int) -> str | None:
    return db().query(Artist.name).filter(Artist.id == artist_id).scalar()


@bp.route("/", methods=["POST"])
def create_video() -> Any:
    data = json_body()
    if data is None:
        return error("No data provided", 400)
    title = str(data.get("title") or "").strip()
    artist_id = data.get("artist_id")
    if not title or artist_id is None:
        return error("Title and artist_id are required", 400)
    session = db()
    try:
        artist = session.get(Artist, int(artist_id))
    except (TypeError, ValueError):
        artist = None
    if artist is None:
        return error("Artist not found", 404)
    imvdb_id = data.get("imvdb_id")
    if imvdb_id and session.query(Video.id).filter(Video.imvdb_id == str(imvdb_id)).first():
        return error("Video with this IMVDb ID already exists", 409)
    status = str(data.get("status") or "WANTED").upper()
    if status not in VideoStatus.__members__:
        return error(f"Invalid status: {status}", 400)
    video_url = data.get("video_url") or data.get("youtube_url")
    video = Video(
        artist_id=artist.id,
        title=title,
        imvdb_id=str(imvdb_id) if imvdb_id else None,
        youtube_id=data.get("youtube_id"),
        youtube_url=video_url,
        thumbnail_url=data.get("thumbnail_url"),
        duration=data.get("duration"),
        year=data.get("year"),
        quality=data.get("quality"),
        genres=data.get("genres") or [],
        source=data.get("source") or "manual",
        status=VideoStatus[status],
    )
    session.add(video)
    session.commit()
    return jsonify({"id": video.id, "title": video.title, "message": "Video added successfully"}), 201


@bp.route("/<int:video_id>", methods=["GET"])
def get_video(video_id: int) -> Any:
    video = db().get(Video, video_id)
    if video is None:
        return error("Video not found", 404)
    return jsonify(video_dict(video, _artist_name(video.artist_id), genres=True))


@bp.route("/<int:video_id>", methods=["PUT"])
def update_video(video_id: int) -> Any:
    session = db()
    video = session.get(Video, video_id)
    if video is None:
        return error("Video not found", 404)
    data = json_body()
    if data is None:
        return error("No data provided", 400)
    if "title" in data:
        title = str(data["title"] or "").strip()
        if not title:
            return error("Title cannot be empty", 400)
        video.title = title
    if "status" in data:
        status = str(data["status"] or "").upper()
        if status not in VideoStatus.__members__:
            return error(f"Invalid status: {data['status']}", 400)
        video.status = VideoStatus[status]
    if "imvdb_id" in data:
        imvdb_id = str(data["imvdb_id"]) if data["imvdb_id"] else None
        clash = imvdb_id and session.query(Video.id).filter(Video.imvdb_id == imvdb_id, Video.id != video.id)
        if clash and clash.first():
            return error("Video with this IMVDb ID already exists", 409)
        video.imvdb_id = imvdb_id
    if "artist_name" in data and str(data["artist_name"] or "").strip():
        name = str(data["artist_name"]).strip()
        artist = session.query(Artist).filter(func.lower(Artist.name) == name.lower()).first()
        if artist is None:
            artist = Artist(name=name, source="manual")
            session.add(artist)
            session.flush()
        video.artist_id = artist.id
    if "video_url" in data:
        video.youtube_url = data["video_url"]
    for field in ("year", "thumbnail_url", "duration", "genres", "quality"):
        if field in data:
            setattr(video, field, data[field])
    session.commit()
    return jsonify(video_dict(video, _artist_name(video.artist_id), genres=True))


@bp.route("/<int:video_id>/status", methods=["PUT"])
def update_video_status(video_id: int) -> Any:
    session = db()
    video = session.get(Video, video_id)
    if video is None:
        return error("Video not found", 404)
    data = json_body() or {}
    raw = data.get("status")
    if not raw:
        return error("Status is required", 400)
    status = str(raw).upper()
    if status not in SETTABLE_STATUSES:
        return error(f"Invalid status. Must be one of: {', '.join(SETTABLE_STATUSES)}", 400)
    old = video.status.value
    video.status = VideoStatus[status]
    session.commit()
    return jsonify(
        {
            "success": True,
            "message": f"Video status updated from {old} to {status}",
            "video_id": video.id,
            "old_status": old,
            "new_status": status,
        }
    )


@bp.route("/<int:video_id>", methods=["DELETE"])
def delete_video(video_id: int) -> Any:
    session = db()
    video = session.get(Video, video_id)
    if video is None:
        return error("Video not found", 404)
    data = json_body() or {}
    artist_name = _artist_name(video.artist_id)
    summary = {"id": video.id, "title": video.title, "artist_name": artist_name}

    playlist_ids = [
        pid for (pid,) in session.query(PlaylistEntry.playlist_id).filter_by(video_id=video.id).distinct()
    ]
    entries_removed = session.query(PlaylistEntry).filter_by(video_id=video.id).delete()
    downloads_removed = session.query(Download).filter_by(video_id=video.id).delete()

    blacklisted = False
    url = video.youtube_url or video.url
    if data.get("add_to_blacklist") and url:
        user = current_user()
        session.merge(
            VideoBlacklist(
                youtube_url=url,
                title=video.title,
                artist_name=artist_name,
                blacklisted_by=user.id if user else None,
            )
        )
        blacklisted = True
    session.delete(video)
    session.flush()
    refresh_playlist_stats(session, playlist_ids)
    session.commit()
    return jsonify(
        {
            "message": "Video deleted successfully",
            "video": summary,
            "playlist_entries_removed": entries_removed,
            "downloads_removed": downloads_removed,
            "blacklisted": blacklisted,
        }
    )
