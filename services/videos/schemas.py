from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from services._validators import Echoed, IntLike, TextLike


class VideoRead(BaseModel):
    id: int
    title: str
    artist_id: int
    artist_name: str | None
    status: str | None
    imvdb_id: str | None
    video_url: Echoed
    local_path: str | None
    thumbnail_url: Echoed
    duration: Echoed
    quality: Echoed
    year: Echoed
    video_metadata: Any
    created_at: str | None


class VideoDetailRead(VideoRead):
    genres: list[Any]


class VideoList(BaseModel):
    videos: list[VideoRead]
    count: int
    total: int
    offset: int
    limit: int | None


class VideoSearchFilters(BaseModel):
    q: str | None
    artist: str | None
    status: str | None
    year: int | None
    year_from: int | None
    year_to: int | None
    genre: str | None
    quality: str | None
    has_thumbnail: bool | None
    source: str | None
    duration_min: int | None
    duration_max: int | None
    date_from: str | None
    date_to: str | None
    keywords: str | None
    sort: str
    order: str


class VideoSearchResult(BaseModel):
    videos: list[VideoDetailRead]
    count: int
    total: int
    offset: int
    limit: int
    filters: VideoSearchFilters


class VideoBase(BaseModel):
    model_config = ConfigDict(extra="allow")

    year: IntLike = None
    duration: IntLike = None
    thumbnail_url: TextLike = None
    quality: TextLike = None
    video_url: TextLike = None
    genres: Any = None


class VideoCreateFields(VideoBase):
    """The type checks of a create body (legacy's own rules handle title, artist_id, status)."""

    youtube_id: TextLike = None
    youtube_url: TextLike = None
    source: TextLike = None


class VideoCreate(VideoBase):
    title: Any
    artist_id: int
    imvdb_id: Any = None
    status: str = "WANTED"
    youtube_id: TextLike = None
    youtube_url: TextLike = None
    source: TextLike = None


class VideoUpdate(VideoBase):
    title: Any = None
    status: Any = None
    imvdb_id: Any = None
    artist_name: Any = None


class VideoCreated(BaseModel):
    id: int
    title: str
    message: str


class VideoStatusUpdate(BaseModel):
    status: str


class VideoStatusChanged(BaseModel):
    success: bool
    message: str
    video_id: int
    old_status: str
    new_status: str


class VideoDelete(BaseModel):
    add_to_blacklist: bool = False


class VideoSummary(BaseModel):
    id: int
    title: str
    artist_name: str | None


class VideoDeleted(BaseModel):
    message: str
    video: VideoSummary
    playlist_entries_removed: int
    downloads_removed: int
    blacklisted: bool
