"""`/api/artists`, as MVidarr's src/api/artists.py (list, CRUD, settings).

Pagination is `page`/`per_page` with `pages` and a `query_time` in seconds; every artist in
the list carries its `video_count`.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import asc, desc, func, or_
from sqlalchemy.orm import Session

from legacy_flask.api._common import arg_flag, error, flag, iso, json_body
from legacy_flask.api.playlists import refresh_playlist_stats
from legacy_flask.extensions import db
from legacy_flask.models import Artist, Download, PlaylistEntry, Video

bp = Blueprint("artists", __name__)

DEFAULT_PER_PAGE = 50


def _video_counts() -> Any:
    return (
        db()
        .query(Video.artist_id.label("artist_id"), func.count(Video.id).label("video_count"))
        .group_by(Video.artist_id)
        .subquery()
    )


def list_item(artist: Artist, video_count: int) -> dict[str, Any]:
    return {
        "id": artist.id,
        "name": artist.name,
        "imvdb_id": artist.imvdb_id,
        "thumbnail_url": artist.thumbnail_url,
        "auto_download": artist.auto_download,
        "keywords": artist.keywords or [],
        "monitored": artist.monitored,
        "created_at": iso(artist.created_at),
        "video_count": video_count,
        "folder_path": artist.folder_path,
        "has_thumbnail": bool(artist.thumbnail_url or artist.thumbnail_path),
        "has_imvdb_data": bool(artist.imvdb_metadata),
    }


def detail(artist: Artist, session: Session) -> dict[str, Any]:
    video_count = session.query(func.count(Video.id)).filter(Video.artist_id == artist.id).scalar()
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
        "video_count": video_count,
        "created_at": iso(artist.created_at),
    }


@bp.route("/", methods=["GET"])
def list_artists() -> Any:
    started = time.monotonic()
    args = request.args
    page = max(args.get("page", 1, type=int), 1)
    per_page = max(args.get("per_page", DEFAULT_PER_PAGE, type=int), 1)
    sort = args.get("sort", "name")
    order = args.get("order", "asc")

    counts = _video_counts()
    video_count = func.coalesce(counts.c.video_count, 0)
    query = (
        db()
        .query(Artist, video_count.label("video_count"))
        .outerjoin(counts, counts.c.artist_id == Artist.id)
    )

    search = (args.get("search") or "").strip()
    if search:
        query = query.filter(Artist.name.ilike(f"%{search}%"))
    for name, column in (("monitored", Artist.monitored), ("auto_download", Artist.auto_download)):
        value = arg_flag(name)
        if value is not None:
            query = query.filter(column.is_(value))
    has_thumbnail = arg_flag("has_thumbnail")
    if has_thumbnail is True:
        query = query.filter(Artist.thumbnail_url.isnot(None), Artist.thumbnail_url != "")
    elif has_thumbnail is False:
        query = query.filter(or_(Artist.thumbnail_url.is_(None), Artist.thumbnail_url == ""))
    has_imvdb_id = arg_flag("has_imvdb_id")
    if has_imvdb_id is True:
        query = query.filter(Artist.imvdb_id.isnot(None))
    elif has_imvdb_id is False:
        query = query.filter(Artist.imvdb_id.is_(None))
    min_videos = args.get("min_videos", type=int)
    if min_videos is not None:
        query = query.filter(video_count >= min_videos)
    max_videos = args.get("max_videos", type=int)
    if max_videos is not None:
        query = query.filter(video_count <= max_videos)

    columns = {
        "name": Artist.name,
        "created_at": Artist.created_at,
        "updated_at": Artist.updated_at,
        "video_count": video_count,
    }
    direction = desc if order.lower() == "desc" else asc
    query = query.order_by(direction(columns.get(sort, Artist.name)), asc(Artist.id))

    total = query.order_by(None).count()
    rows = query.offset((page - 1) * per_page).limit(per_page).all()
    artists = [list_item(artist, int(count)) for artist, count in rows]
    return jsonify(
        {
            "artists": artists,
            "count": len(artists),
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": math.ceil(total / per_page) if total else 0,
            "query_time": round(time.monotonic() - started, 4),
        }
    )


@bp.route("/", methods=["POST"])
def create_artist() -> Any:
    data = json_body() or {}
    name = str(data.get("name") or "").strip()
    if not name:
        return error("Artist name is required", 400)
    session = db()
    imvdb_id = str(data["imvdb_id"]) if data.get("imvdb_id") else None
    clash = session.query(Artist.id).filter(func.lower(Artist.name) == name.lower())
    if clash.first() or (imvdb_id and session.query(Artist.id).filter(Artist.imvdb_id == imvdb_id).first()):
        return error("Artist already exists", 409)
    artist = Artist(
        name=name,
        imvdb_id=imvdb_id,
        folder_path=data.get("folder_path"),
        auto_download=flag(data.get("auto_download", False)),
        keywords=data.get("keywords") or [],
        monitored=flag(data.get("monitored", True)),
        source="manual",
    )
    session.add(artist)
    session.commit()
    return jsonify({"id": artist.id, "name": artist.name, "message": "Artist added successfully"}), 201


@bp.route("/<int:artist_id>", methods=["GET"])
def get_artist(artist_id: int) -> Any:
    session = db()
    artist = session.get(Artist, artist_id)
    if artist is None:
        return error("Artist not found", 404)
    return jsonify(detail(artist, session))


def _apply(artist: Artist, data: dict[str, Any], session: Session) -> Any:
    """Copy the editable fields; an error response when a value is refused, else None."""
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name:
            return error("Artist name cannot be empty", 400)
        clash = session.query(Artist.id).filter(
            func.lower(Artist.name) == name.lower(), Artist.id != artist.id
        )
        if clash.first():
            return error("Artist already exists", 409)
        artist.name = name
    if "imvdb_id" in data:
        imvdb_id = str(data["imvdb_id"]) if data["imvdb_id"] else None
        clash = session.query(Artist.id).filter(Artist.imvdb_id == imvdb_id, Artist.id != artist.id)
        if imvdb_id and clash.first():
            return error("Another artist already has this IMVDb ID", 409)
        artist.imvdb_id = imvdb_id
    for field in ("auto_download", "monitored"):
        if field in data:
            setattr(artist, field, flag(data[field]))
    for field in ("keywords", "folder_path", "thumbnail_url", "genres", "spotify_id", "lastfm_name"):
        if field in data:
            setattr(artist, field, data[field])
    return None


@bp.route("/<int:artist_id>", methods=["PUT"])
def update_artist(artist_id: int) -> Any:
    session = db()
    artist = session.get(Artist, artist_id)
    if artist is None:
        return error("Artist not found", 404)
    data = json_body()
    if data is None:
        return error("No data provided", 400)
    failure = _apply(artist, data, session)
    if failure is not None:
        session.rollback()
        return failure
    session.commit()
    return jsonify(
        {"success": True, "message": "Artist updated successfully", "artist": detail(artist, session)}
    )


@bp.route("/<int:artist_id>/settings", methods=["PUT"])
def update_artist_settings(artist_id: int) -> Any:
    session = db()
    artist = session.get(Artist, artist_id)
    if artist is None:
        return error("Artist not found", 404)
    data = json_body()
    if data is None:
        return error("No data provided", 400)
    allowed = {
        k: v for k, v in data.items() if k in {"auto_download", "monitored", "keywords", "folder_path"}
    }
    failure = _apply(artist, allowed, session)
    if failure is not None:  # pragma: no cover - the settings subset cannot clash
        return failure
    session.commit()
    return jsonify(
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


@bp.route("/<int:artist_id>", methods=["DELETE"])
def delete_artist(artist_id: int) -> Any:
    session = db()
    artist = session.get(Artist, artist_id)
    if artist is None:
        return error("Artist not found", 404)
    video_ids = [vid for (vid,) in session.query(Video.id).filter(Video.artist_id == artist.id)]
    download_count = (
        session.query(func.count(Download.id))
        .filter(or_(Download.artist_id == artist.id, Download.video_id.in_(video_ids or [-1])))
        .scalar()
    )
    force = flag(request.args.get("force", "false"))
    if (video_ids or download_count) and not force:
        return (
            jsonify(
                {
                    "error": "Artist has associated videos or downloads",
                    "details": {
                        "video_count": len(video_ids),
                        "download_count": download_count,
                        "message": "Use force=true to delete the artist with its videos and downloads",
                    },
                }
            ),
            409,
        )
    playlist_ids: list[int] = []
    if video_ids:
        playlist_ids = [
            pid
            for (pid,) in session.query(PlaylistEntry.playlist_id)
            .filter(PlaylistEntry.video_id.in_(video_ids))
            .distinct()
        ]
        session.query(PlaylistEntry).filter(PlaylistEntry.video_id.in_(video_ids)).delete(
            synchronize_session=False
        )
    session.query(Download).filter(
        or_(Download.artist_id == artist.id, Download.video_id.in_(video_ids or [-1]))
    ).delete(synchronize_session=False)
    session.query(Video).filter(Video.artist_id == artist.id).delete(synchronize_session=False)
    name = artist.name
    session.delete(artist)
    session.flush()
    refresh_playlist_stats(session, playlist_ids)
    session.commit()
    return jsonify(
        {
            "success": True,
            "message": f"Artist '{name}' deleted successfully",
            "deleted_videos": len(video_ids),
            "deleted_downloads": download_count,
        }
    )
