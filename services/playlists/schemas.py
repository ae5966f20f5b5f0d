from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from services._validators import Echoed, TextLike


class PlaylistRead(BaseModel):
    id: int
    name: str
    description: Echoed
    user_id: int
    username: str | None
    is_public: bool
    is_featured: bool
    video_count: int
    total_duration: int
    metadata: Any
    thumbnail_url: Echoed
    created_at: str | None
    updated_at: str | None


class PlaylistAccessRead(PlaylistRead):
    can_modify: bool


class EntryVideoRead(BaseModel):
    id: int
    title: str
    artist_name: str | None
    duration: int | None
    thumbnail_url: Echoed
    status: str | None
    year: int | None
    quality: str | None
    video_metadata: Any


class PlaylistEntryRead(BaseModel):
    id: int
    playlist_id: int
    video_id: int
    position: int
    notes: str | None
    added_by: int | None
    added_by_username: str | None
    added_at: str | None
    video: EntryVideoRead | None


class PlaylistDetailRead(PlaylistAccessRead):
    entries: list[PlaylistEntryRead] | None = None


class Pagination(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int


class PlaylistList(BaseModel):
    success: bool
    playlists: list[PlaylistAccessRead]
    pagination: Pagination


class PlaylistOne(BaseModel):
    success: bool
    playlist: PlaylistDetailRead


class PlaylistFields(BaseModel):
    """Type checks of the values legacy copies as given."""

    model_config = ConfigDict(extra="allow")

    description: TextLike = None
    thumbnail_url: TextLike = None


class PlaylistCreate(PlaylistFields):
    name: str
    is_public: bool | str = False
    is_featured: bool | str = False


class PlaylistUpdate(PlaylistFields):
    name: str | None = None
    is_public: bool | str | None = None
    is_featured: bool | str | None = None


class PlaylistCreated(BaseModel):
    success: bool
    playlist: PlaylistRead


class PlaylistDeleted(BaseModel):
    success: bool
    message: str


class PlaylistAddVideos(BaseModel):
    video_ids: list[int]


class PlaylistVideosAdded(BaseModel):
    success: bool
    added_count: int
    skipped_count: int
    total_videos: int


class PlaylistEntryRemoved(BaseModel):
    success: bool
    message: str
    total_videos: int


class EntryOrder(BaseModel):
    id: int
    position: int


class PlaylistReorder(BaseModel):
    entry_orders: list[EntryOrder]


class PlaylistReordered(BaseModel):
    success: bool
    updated_count: int
