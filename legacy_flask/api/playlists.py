"""`/api/playlists`, as MVidarr's src/api/playlists.py.

The user comes from `session["username"]` only (no session-row check, as in MVidarr); without
it every route answers 401 `{"error":"User not found"}`. Pagination is `page`/`per_page`
(max 200) with a nested `pagination` object. `can_access` = owner, public, or admin/manager;
`can_modify` = owner or admin/manager.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, jsonify, request, session
from sqlalchemy import func, or_
from sqlalchemy.orm import Session

from legacy_flask.api._common import error, flag, iso, json_body
from legacy_flask.extensions import db
from legacy_flask.models import Playlist, PlaylistEntry, User, UserRole, Video, utcnow

bp = Blueprint("playlists", __name__)

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 20
_PRIVILEGED = (UserRole.ADMIN, UserRole.MANAGER)


def refresh_playlist_stats(db_session: Session, playlist_ids: Iterable[int]) -> None:
    """Recompute the cached video_count / total_duration (MVidarr's Playlist.update_stats)."""
    for playlist_id in set(playlist_ids):
        count, duration = (
            db_session.query(func.count(PlaylistEntry.id), func.coalesce(func.sum(Video.duration), 0))
            .outerjoin(Video, PlaylistEntry.video_id == Video.id)
            .filter(PlaylistEntry.playlist_id == playlist_id)
            .one()
        )
        db_session.query(Playlist).filter(Playlist.id == playlist_id).update(
            {"video_count": int(count), "total_duration": int(duration or 0), "updated_at": utcnow()},
            synchronize_session="fetch",
        )


def can_access(playlist: Playlist, user: User) -> bool:
    return playlist.user_id == user.id or playlist.is_public or user.role in _PRIVILEGED


def can_modify(playlist: Playlist, user: User) -> bool:
    return playlist.user_id == user.id or user.role in _PRIVILEGED


def entry_dict(entry: PlaylistEntry) -> dict[str, Any]:
    video = entry.video
    return {
        "id": entry.id,
        "playlist_id": entry.playlist_id,
        "video_id": entry.video_id,
        "position": entry.position,
        "notes": entry.notes,
        "added_by": entry.added_by,
        "added_by_username": entry.added_by_user.username if entry.added_by_user else None,
        "added_at": iso(entry.added_at),
        "video": {
            "id": video.id,
            "title": video.title,
            "artist_name": video.artist.name if video.artist else None,
            "duration": video.duration,
            "thumbnail_url": video.thumbnail_url,
            "status": video.status.value if video.status else None,
            "year": video.year,
            "quality": video.quality,
            "video_metadata": video.video_metadata,
        }
        if video is not None
        else None,
    }


def playlist_dict(playlist: Playlist, *, include_entries: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": playlist.id,
        "name": playlist.name,
        "description": playlist.description,
        "user_id": playlist.user_id,
        "username": playlist.user.username if playlist.user else None,
        "is_public": playlist.is_public,
        "is_featured": playlist.is_featured,
        "video_count": playlist.video_count,
        "total_duration": playlist.total_duration,
        "metadata": playlist.playlist_metadata,
        "thumbnail_url": playlist.thumbnail_url,
        "created_at": iso(playlist.created_at),
        "updated_at": iso(playlist.updated_at),
    }
    if include_entries:
        data["entries"] = [entry_dict(entry) for entry in playlist.entries]
    return data


def _session_user() -> User | None:
    username = session.get("username")
    if not username:
        return None
    return db().query(User).filter_by(username=username).first()


def _user_not_found() -> Any:
    return error("User not found", 401)


def _load(playlist_id: int, user: User, *, modify: bool) -> tuple[Playlist | None, Any]:
    playlist = db().get(Playlist, playlist_id)
    if playlist is None:
        return None, error("Playlist not found", 404)
    allowed = can_modify(playlist, user) if modify else can_access(playlist, user)
    if not allowed:
        return None, error("Access denied", 403)
    return playlist, None


@bp.route("/", methods=["GET"])
def list_playlists() -> Any:
    user = _session_user()
    if user is None:
        return _user_not_found()
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = min(max(request.args.get("per_page", DEFAULT_PER_PAGE, type=int), 1), MAX_PER_PAGE)
    visible = [Playlist.user_id == user.id, Playlist.is_public.is_(True)]
    if user.role == UserRole.ADMIN:
        visible.append(Playlist.is_featured.is_(True))
    query = db().query(Playlist).filter(or_(*visible))
    total = query.count()
    rows = (
        query.order_by(Playlist.updated_at.desc(), Playlist.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all()
    )
    playlists = [{**playlist_dict(p), "can_modify": can_modify(p, user)} for p in rows]
    return jsonify(
        {
            "success": True,
            "playlists": playlists,
            "pagination": {
                "page": page,
                "per_page": per_page,
                "total": total,
                "pages": math.ceil(total / per_page) if total else 0,
            },
        }
    )


@bp.route("/<int:playlist_id>", methods=["GET"])
def get_playlist(playlist_id: int) -> Any:
    user = _session_user()
    if user is None:
        return _user_not_found()
    playlist, failure = _load(playlist_id, user, modify=False)
    if playlist is None:
        return failure
    include = flag(request.args.get("include_entries", "false"))
    data = {**playlist_dict(playlist, include_entries=include), "can_modify": can_modify(playlist, user)}
    return jsonify({"success": True, "playlist": data})


def _name_taken(user_id: int, name: str, exclude_id: int | None = None) -> bool:
    query = db().query(Playlist.id).filter(Playlist.user_id == user_id, Playlist.name == name)
    if exclude_id is not None:
        query = query.filter(Playlist.id != exclude_id)
    return query.first() is not None


@bp.route("/", methods=["POST"])
def create_playlist() -> Any:
    user = _session_user()
    if user is None:
        return _user_not_found()
    data = json_body() or {}
    name = str(data.get("name") or "").strip()
    if not name:
        return error("Playlist name is required", 400)
    if _name_taken(user.id, name):
        return error("A playlist with this name already exists", 400)
    playlist = Playlist(
        name=name,
        description=data.get("description"),
        user_id=user.id,
        is_public=flag(data.get("is_public", False)),
        is_featured=flag(data.get("is_featured", False)) and user.role in _PRIVILEGED,
    )
    db().add(playlist)
    db().commit()
    return jsonify({"success": True, "playlist": playlist_dict(playlist)}), 201


@bp.route("/<int:playlist_id>", methods=["PUT"])
def update_playlist(playlist_id: int) -> Any:
    user = _session_user()
    if user is None:
        return _user_not_found()
    playlist, failure = _load(playlist_id, user, modify=True)
    if playlist is None:
        return failure
    data = json_body()
    if data is None:
        return error("No data provided", 400)
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name:
            return error("Playlist name cannot be empty", 400)
        if _name_taken(playlist.user_id, name, exclude_id=playlist.id):
            return error("A playlist with this name already exists", 400)
        playlist.name = name
    for field in ("description", "thumbnail_url"):
        if field in data:
            setattr(playlist, field, data[field])
    if "is_public" in data:
        playlist.is_public = flag(data["is_public"])
    if "is_featured" in data and user.role in _PRIVILEGED:
        playlist.is_featured = flag(data["is_featured"])
    db().commit()
    return jsonify({"success": True, "playlist": {**playlist_dict(playlist), "can_modify": True}})


@bp.route("/<int:playlist_id>", methods=["DELETE"])
def delete_playlist(playlist_id: int) -> Any:
    user = _session_user()
    if user is None:
        return _user_not_found()
    playlist, failure = _load(playlist_id, user, modify=True)
    if playlist is None:
        return failure
    name = playlist.name
    db().delete(playlist)
    db().commit()
    return jsonify({"success": True, "message": f"Playlist '{name}' deleted successfully"})


@bp.route("/<int:playlist_id>/videos", methods=["POST"])
def add_videos(playlist_id: int) -> Any:
    user = _session_user()
    if user is None:
        return _user_not_found()
    playlist, failure = _load(playlist_id, user, modify=True)
    if playlist is None:
        return failure
    data = json_body() or {}
    video_ids = data.get("video_ids")
    if not isinstance(video_ids, list) or not video_ids:
        return error("video_ids is required", 400)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in video_ids):
        return error("video_ids must be a list of integers", 400)
    session_ = db()
    found = {vid for (vid,) in session_.query(Video.id).filter(Video.id.in_(video_ids))}
    missing = [vid for vid in video_ids if vid not in found]
    if missing:
        return error(f"Videos not found: {missing}", 404)
    present = {
        vid
        for (vid,) in session_.query(PlaylistEntry.video_id).filter(PlaylistEntry.playlist_id == playlist.id)
    }
    position = (
        session_.query(func.coalesce(func.max(PlaylistEntry.position), -1))
        .filter(PlaylistEntry.playlist_id == playlist.id)
        .scalar()
    )
    added = skipped = 0
    for vid in dict.fromkeys(video_ids):  # a repeated id is added once
        if vid in present:
            skipped += 1
            continue
        position += 1
        session_.add(
            PlaylistEntry(playlist_id=playlist.id, video_id=vid, position=position, added_by=user.id)
        )
        present.add(vid)
        added += 1
    skipped += len(video_ids) - len(dict.fromkeys(video_ids))
    session_.flush()
    refresh_playlist_stats(session_, [playlist.id])
    session_.commit()
    return jsonify(
        {
            "success": True,
            "added_count": added,
            "skipped_count": skipped,
            "total_videos": _entry_count(playlist.id),
        }
    )


def _entry_count(playlist_id: int) -> int:
    return db().query(func.count(PlaylistEntry.id)).filter(PlaylistEntry.playlist_id == playlist_id).scalar()


@bp.route("/<int:playlist_id>/videos/<int:entry_id>", methods=["DELETE"])
def remove_video(playlist_id: int, entry_id: int) -> Any:
    user = _session_user()
    if user is None:
        return _user_not_found()
    playlist, failure = _load(playlist_id, user, modify=True)
    if playlist is None:
        return failure
    session_ = db()
    entry = session_.query(PlaylistEntry).filter_by(id=entry_id, playlist_id=playlist.id).first()
    if entry is None:
        return error("Playlist entry not found", 404)
    removed_position = entry.position
    session_.delete(entry)
    session_.flush()
    session_.query(PlaylistEntry).filter(
        PlaylistEntry.playlist_id == playlist.id, PlaylistEntry.position > removed_position
    ).update({"position": PlaylistEntry.position - 1}, synchronize_session=False)
    refresh_playlist_stats(session_, [playlist.id])
    session_.commit()
    return jsonify(
        {
            "success": True,
            "message": "Video removed from playlist",
            "total_videos": _entry_count(playlist.id),
        }
    )


@bp.route("/<int:playlist_id>/videos/reorder", methods=["POST"])
def reorder_videos(playlist_id: int) -> Any:
    user = _session_user()
    if user is None:
        return _user_not_found()
    playlist, failure = _load(playlist_id, user, modify=True)
    if playlist is None:
        return failure
    data = json_body() or {}
    orders = data.get("entry_orders")
    if not isinstance(orders, list) or not orders:
        return error("entry_orders is required", 400)
    wanted: dict[int, int] = {}
    for item in orders:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            return error("Each entry order needs an integer id and position", 400)
        if not isinstance(item.get("position"), int):
            return error("Each entry order needs an integer id and position", 400)
        wanted[item["id"]] = item["position"]
    session_ = db()
    entries = (
        session_.query(PlaylistEntry)
        .filter(PlaylistEntry.playlist_id == playlist.id, PlaylistEntry.id.in_(list(wanted)))
        .all()
    )
    for entry in entries:
        entry.position = wanted[entry.id]
    playlist.updated_at = utcnow()
    session_.commit()
    return jsonify({"success": True, "updated_count": len(entries)})
