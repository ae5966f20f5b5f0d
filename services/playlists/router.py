"""`/api/playlists` with the legacy contract (legacy_flask/api/playlists.py).

The caller is `SessionUserDep` (the session's `username`, as legacy reads it); without one
every route answers 401 `{"error":"User not found"}`. Pagination is `page`/`per_page`
(max 200) with a nested `pagination` object. `can_access` = owner, public, or admin/manager;
`can_modify` = owner or admin/manager.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from services._bounds import row_id
from services._legacy_http import arg_int, flag, iso, json_body, legacy_json
from services._legacy_json import LegacyJSONResponse, as_read
from services._validators import validate_body
from services.auth.access import MODIFY_CONTENT
from services.auth.current_user import SessionUserDep
from services.db import SessionDep
from services.errors import legacy_error
from services.guard import LEGACY_GUARD
from services.models import Playlist, PlaylistEntry, User, utcnow
from services.playlists.repository import PRIVILEGED, PlaylistRepository, can_access, can_modify
from services.playlists.schemas import (
    PlaylistAddVideos,
    PlaylistCreate,
    PlaylistCreated,
    PlaylistDeleted,
    PlaylistEntryRemoved,
    PlaylistFields,
    PlaylistList,
    PlaylistOne,
    PlaylistReorder,
    PlaylistReordered,
    PlaylistUpdate,
    PlaylistVideosAdded,
)
from services.playlists.stats import refresh_playlist_stats
from services.schemas import error_responses, json_body_doc

router = APIRouter(prefix="/api/playlists", tags=["playlists"], dependencies=[LEGACY_GUARD])

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 20
QueryText = Annotated[str | None, Query()]
_ALL_ERRORS = error_responses(400, 401, 403, 404)


def playlist_dict(playlist: Playlist, username: str | None) -> dict[str, Any]:
    return {
        "id": playlist.id,
        "name": playlist.name,
        "description": playlist.description,
        "user_id": playlist.user_id,
        "username": username,
        "is_public": playlist.is_public,
        "is_featured": playlist.is_featured,
        "video_count": playlist.video_count,
        "total_duration": playlist.total_duration,
        "metadata": playlist.playlist_metadata,
        "thumbnail_url": playlist.thumbnail_url,
        "created_at": iso(playlist.created_at),
        "updated_at": iso(playlist.updated_at),
    }


def entry_dict(
    entry: PlaylistEntry, video: Any, artist_name: str | None, adder: str | None
) -> dict[str, Any]:
    return {
        "id": entry.id,
        "playlist_id": entry.playlist_id,
        "video_id": entry.video_id,
        "position": entry.position,
        "notes": entry.notes,
        "added_by": entry.added_by,
        "added_by_username": adder,
        "added_at": iso(entry.added_at),
        "video": {
            "id": video.id,
            "title": video.title,
            "artist_name": artist_name,
            "duration": as_read(video.duration),
            "thumbnail_url": video.thumbnail_url,
            "status": video.status.value if video.status else None,
            "year": as_read(video.year),
            "quality": video.quality,
            "video_metadata": video.video_metadata,
        }
        if video is not None
        else None,
    }


async def _load(session: SessionDep, playlist_id: int, user: User, *, modify: bool) -> Playlist:
    playlist = await session.get(Playlist, playlist_id) if row_id(playlist_id) is not None else None
    if playlist is None:
        raise legacy_error(404, "Playlist not found")
    if not (can_modify(playlist, user) if modify else can_access(playlist, user)):
        raise legacy_error(403, "Access denied")
    return playlist


@router.get("/", response_model=PlaylistList, responses=error_responses(401))
async def list_playlists(
    request: Request,
    session: SessionDep,
    user: SessionUserDep,
    page: QueryText = None,
    per_page: QueryText = None,
) -> LegacyJSONResponse:
    page_value = max(arg_int(request, "page", 1) or 0, 1)
    per_page_value = min(max(arg_int(request, "per_page", DEFAULT_PER_PAGE) or 0, 1), MAX_PER_PAGE)
    repo = PlaylistRepository(session)
    total = await repo.count(filters=[repo.visible_to(user)])
    rows = await repo.page_with_owner(user=user, page=page_value, per_page=per_page_value)
    playlists = [
        {**playlist_dict(playlist, username), "can_modify": can_modify(playlist, user)}
        for playlist, username in rows
    ]
    return legacy_json(
        {
            "success": True,
            "playlists": playlists,
            "pagination": {
                "page": page_value,
                "per_page": per_page_value,
                "total": total,
                "pages": math.ceil(total / per_page_value) if total else 0,
            },
        }
    )


@router.get("/{playlist_id:int}", response_model=PlaylistOne, responses=_ALL_ERRORS)
async def get_playlist(
    playlist_id: int,
    request: Request,
    session: SessionDep,
    user: SessionUserDep,
    include_entries: QueryText = None,
) -> LegacyJSONResponse:
    playlist = await _load(session, playlist_id, user, modify=False)
    repo = PlaylistRepository(session)
    data = playlist_dict(playlist, await repo.owner_name(user_id=playlist.user_id))
    if flag(request.query_params.get("include_entries", "false")):
        rows = await repo.entries(playlist_id=playlist.id)
        data["entries"] = [entry_dict(entry, video, name, adder) for entry, video, name, adder in rows]
    return legacy_json({"success": True, "playlist": {**data, "can_modify": can_modify(playlist, user)}})


@router.post(
    "/",
    dependencies=[MODIFY_CONTENT],
    status_code=201,
    response_model=PlaylistCreated,
    responses=error_responses(400, 401),
    openapi_extra=json_body_doc(PlaylistCreate),
)
async def create_playlist(request: Request, session: SessionDep, user: SessionUserDep) -> LegacyJSONResponse:
    data = await json_body(request) or {}
    name = str(data.get("name") or "").strip()
    if not name:
        raise legacy_error(400, "Playlist name is required")
    repo = PlaylistRepository(session)
    if await repo.name_taken(user_id=user.id, name=name):
        raise legacy_error(400, "A playlist with this name already exists")
    validate_body(
        PlaylistFields, data, read=("description",), session=repo.session
    )  # create ignores thumbnail_url
    playlist = await repo.create(
        name=name,
        description=data.get("description"),
        user_id=user.id,
        is_public=flag(data.get("is_public", False)),
        is_featured=flag(data.get("is_featured", False)) and user.role in PRIVILEGED,
    )
    return legacy_json({"success": True, "playlist": playlist_dict(playlist, user.username)}, 201)


@router.put(
    "/{playlist_id:int}",
    dependencies=[MODIFY_CONTENT],
    response_model=PlaylistOne,
    responses=_ALL_ERRORS,
    openapi_extra=json_body_doc(PlaylistUpdate),
)
async def update_playlist(
    playlist_id: int, request: Request, session: SessionDep, user: SessionUserDep
) -> LegacyJSONResponse:
    playlist = await _load(session, playlist_id, user, modify=True)
    data = await json_body(request)
    if data is None:
        raise legacy_error(400, "No data provided")
    repo = PlaylistRepository(session)
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name:
            raise legacy_error(400, "Playlist name cannot be empty")
        if await repo.name_taken(user_id=playlist.user_id, name=name, exclude_id=playlist.id):
            raise legacy_error(400, "A playlist with this name already exists")
        playlist.name = name
    validate_body(PlaylistFields, data, session=repo.session)
    for field in ("description", "thumbnail_url"):
        if field in data:
            setattr(playlist, field, data[field])
    if "is_public" in data:
        playlist.is_public = flag(data["is_public"])
    if "is_featured" in data and user.role in PRIVILEGED:
        playlist.is_featured = flag(data["is_featured"])
    await session.flush()
    owner = await repo.owner_name(user_id=playlist.user_id)
    return legacy_json({"success": True, "playlist": {**playlist_dict(playlist, owner), "can_modify": True}})


@router.delete(
    "/{playlist_id:int}", dependencies=[MODIFY_CONTENT], response_model=PlaylistDeleted, responses=_ALL_ERRORS
)
async def delete_playlist(playlist_id: int, session: SessionDep, user: SessionUserDep) -> LegacyJSONResponse:
    playlist = await _load(session, playlist_id, user, modify=True)
    name = playlist.name
    await PlaylistRepository(session).delete_with_entries(playlist)
    return legacy_json({"success": True, "message": f"Playlist '{name}' deleted successfully"})


@router.post(
    "/{playlist_id:int}/videos",
    dependencies=[MODIFY_CONTENT],
    response_model=PlaylistVideosAdded,
    responses=_ALL_ERRORS,
    openapi_extra=json_body_doc(PlaylistAddVideos),
)
async def add_videos(
    playlist_id: int, request: Request, session: SessionDep, user: SessionUserDep
) -> LegacyJSONResponse:
    playlist = await _load(session, playlist_id, user, modify=True)
    data = await json_body(request) or {}
    video_ids = data.get("video_ids")
    if not isinstance(video_ids, list) or not video_ids:
        raise legacy_error(400, "video_ids is required")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in video_ids):
        raise legacy_error(400, "video_ids must be a list of integers")
    repo = PlaylistRepository(session)
    # An id past 64 bits names no video: reported missing, as legacy does on MariaDB.
    found = await repo.existing_video_ids(video_ids=[v for v in video_ids if row_id(v) is not None])
    missing = [vid for vid in video_ids if vid not in found]
    if missing:
        raise legacy_error(404, f"Videos not found: {missing}")
    present = await repo.video_ids_in(playlist_id=playlist.id)
    position = await repo.last_position(playlist_id=playlist.id)
    added = skipped = 0
    unique_ids = list(dict.fromkeys(video_ids))  # a repeated id is added once
    for vid in unique_ids:
        if vid in present:
            skipped += 1
            continue
        position += 1
        session.add(PlaylistEntry(playlist_id=playlist.id, video_id=vid, position=position, added_by=user.id))
        present.add(vid)
        added += 1
    skipped += len(video_ids) - len(unique_ids)
    await session.flush()
    await refresh_playlist_stats(session, [playlist.id])
    return legacy_json(
        {
            "success": True,
            "added_count": added,
            "skipped_count": skipped,
            "total_videos": await repo.entry_count(playlist_id=playlist.id),
        }
    )


@router.delete(
    "/{playlist_id:int}/videos/{entry_id:int}",
    dependencies=[MODIFY_CONTENT],
    response_model=PlaylistEntryRemoved,
    responses=_ALL_ERRORS,
)
async def remove_video(
    playlist_id: int, entry_id: int, session: SessionDep, user: SessionUserDep
) -> LegacyJSONResponse:
    playlist = await _load(session, playlist_id, user, modify=True)
    repo = PlaylistRepository(session)
    entry = (
        await repo.get_entry(playlist_id=playlist.id, entry_id=entry_id)
        if row_id(entry_id) is not None
        else None
    )
    if entry is None:
        raise legacy_error(404, "Playlist entry not found")
    removed_position = entry.position
    await session.delete(entry)
    await session.flush()
    await repo.close_gap(playlist_id=playlist.id, after=removed_position)
    await refresh_playlist_stats(session, [playlist.id])
    return legacy_json(
        {
            "success": True,
            "message": "Video removed from playlist",
            "total_videos": await repo.entry_count(playlist_id=playlist.id),
        }
    )


@router.post(
    "/{playlist_id:int}/videos/reorder",
    dependencies=[MODIFY_CONTENT],
    response_model=PlaylistReordered,
    responses=_ALL_ERRORS,
    openapi_extra=json_body_doc(PlaylistReorder),
)
async def reorder_videos(
    playlist_id: int, request: Request, session: SessionDep, user: SessionUserDep
) -> LegacyJSONResponse:
    playlist = await _load(session, playlist_id, user, modify=True)
    data = await json_body(request) or {}
    orders = data.get("entry_orders")
    if not isinstance(orders, list) or not orders:
        raise legacy_error(400, "entry_orders is required")
    wanted: dict[int, int] = {}
    for item in orders:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("id"), int)
            or not isinstance(item.get("position"), int)
        ):
            raise legacy_error(400, "Each entry order needs an integer id and position")
        wanted[item["id"]] = item["position"]
    # An id past 64 bits names no entry: not updated, as legacy does on MariaDB.
    entry_ids = [entry_id for entry_id in wanted if row_id(entry_id) is not None]
    entries = await PlaylistRepository(session).entries_by_id(playlist_id=playlist.id, entry_ids=entry_ids)
    # Legacy binds a position only for an entry that exists: past 64 bits that is its 500, and
    # for an unknown entry id any position is accepted (and ignored).
    if any(not -(2**63) <= wanted[entry.id] < 2**63 for entry in entries):
        raise legacy_error(400, "Each entry order needs an integer id and position")
    for entry in entries:
        entry.position = wanted[entry.id]
    playlist.updated_at = utcnow()
    await session.flush()
    return legacy_json({"success": True, "updated_count": len(entries)})
