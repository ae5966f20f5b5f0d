from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from services._validators import Echoed, TextLike


class ArtistListItem(BaseModel):
    id: int
    name: str
    imvdb_id: str | None
    thumbnail_url: Echoed
    auto_download: bool
    keywords: Any
    monitored: bool
    created_at: str | None
    video_count: int
    folder_path: Echoed
    has_thumbnail: bool
    has_imvdb_data: bool


class ArtistList(BaseModel):
    artists: list[ArtistListItem]
    count: int
    total: int
    page: int
    per_page: int
    pages: int
    query_time: float


class ArtistRead(BaseModel):
    id: int
    name: str
    imvdb_id: str | None
    thumbnail_url: Echoed
    auto_download: bool
    keywords: Any
    monitored: bool
    metadata: Any
    genres: Any
    video_count: int
    created_at: str | None


class ArtistFields(BaseModel):
    """Type checks shared by create and update (legacy copies these values as given)."""

    model_config = ConfigDict(extra="allow")

    folder_path: TextLike = None
    thumbnail_url: TextLike = None
    spotify_id: TextLike = None
    lastfm_name: TextLike = None


class ArtistCreate(ArtistFields):
    name: str
    imvdb_id: str | int | None = None
    auto_download: bool | str = False
    monitored: bool | str = True
    keywords: Any = None


class ArtistUpdate(ArtistFields):
    name: str | None = None
    imvdb_id: str | int | None = None
    auto_download: bool | str | None = None
    monitored: bool | str | None = None
    keywords: Any = None
    genres: Any = None


class ArtistSettingsUpdate(BaseModel):
    auto_download: bool | str | None = None
    monitored: bool | str | None = None
    keywords: Any = None
    folder_path: str | None = None


class ArtistCreated(BaseModel):
    id: int
    name: str
    message: str


class ArtistUpdated(BaseModel):
    success: bool
    message: str
    artist: ArtistRead


class ArtistSettingsRead(BaseModel):
    id: int
    auto_download: bool
    monitored: bool
    keywords: Any
    folder_path: Echoed


class ArtistSettingsUpdated(BaseModel):
    message: str
    artist: ArtistSettingsRead


class ArtistDeleted(BaseModel):
    success: bool
    message: str
    deleted_videos: int
    deleted_downloads: int
