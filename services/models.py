"""Typed SQLAlchemy 2 models of the shared schema (the tables the legacy app creates).

Mapped from the legacy declarations column for column (names, types, lengths, nullability,
keys and index names); `tests/services/test_schema_parity.py` compares both on SQLite and
MariaDB. Enum columns store the UPPERCASE member names; datetimes are naive UTC.

Every relationship is `lazy="raise"`: on the async path a relationship must be loaded
explicitly (`selectinload`, `joinedload` or a join), never by a hidden blocking query.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

JsonValue = Any


def utcnow() -> datetime:
    """Naive UTC now, the way the legacy app stores every timestamp."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class VideoStatus(enum.Enum):
    WANTED = "WANTED"
    DOWNLOADING = "DOWNLOADING"
    DOWNLOADED = "DOWNLOADED"
    IGNORED = "IGNORED"
    FAILED = "FAILED"
    MONITORED = "MONITORED"


class UserRole(enum.Enum):
    ADMIN = "ADMIN"
    MANAGER = "MANAGER"
    USER = "USER"
    READONLY = "READONLY"


class SessionStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


ROLE_LEVEL = {UserRole.READONLY: 0, UserRole.USER: 1, UserRole.MANAGER: 2, UserRole.ADMIN: 3}


class Setting(Base):
    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    value: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    email: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[UserRole] = mapped_column(Enum(UserRole), nullable=False, default=UserRole.USER)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    is_email_verified: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    failed_login_attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_ip: Mapped[str | None] = mapped_column(String(45))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    email_verification_token: Mapped[str | None] = mapped_column(String(255))
    password_reset_token: Mapped[str | None] = mapped_column(String(255))
    password_reset_expires: Mapped[datetime | None] = mapped_column(DateTime)
    two_factor_secret: Mapped[str | None] = mapped_column(String(32))
    two_factor_enabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    backup_codes: Mapped[JsonValue | None] = mapped_column(JSON)
    preferences: Mapped[JsonValue | None] = mapped_column(JSON)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="raise"
    )

    def has_permission(self, required: UserRole) -> bool:
        return ROLE_LEVEL[self.role] >= ROLE_LEVEL[required]

    @property
    def can_access_admin(self) -> bool:
        return self.role in (UserRole.ADMIN, UserRole.MANAGER)

    @property
    def can_modify_content(self) -> bool:
        return self.role in (UserRole.ADMIN, UserRole.MANAGER, UserRole.USER)

    @property
    def can_delete_content(self) -> bool:
        return self.role in (UserRole.ADMIN, UserRole.MANAGER)

    @property
    def can_manage_users(self) -> bool:
        return self.role == UserRole.ADMIN


class UserSession(Base):
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    session_token: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    status: Mapped[SessionStatus] = mapped_column(
        Enum(SessionStatus), nullable=False, default=SessionStatus.ACTIVE
    )
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    last_activity: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    user: Mapped[User] = relationship(back_populates="sessions", lazy="raise")


class Artist(Base):
    __tablename__ = "artists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    imvdb_id: Mapped[str | None] = mapped_column(String(50), unique=True)
    spotify_id: Mapped[str | None] = mapped_column(String(255))
    lastfm_name: Mapped[str | None] = mapped_column(String(255))
    thumbnail_url: Mapped[str | None] = mapped_column(String(500))
    thumbnail_path: Mapped[str | None] = mapped_column(String(500))
    thumbnail_source: Mapped[str | None] = mapped_column(String(50))
    thumbnail_metadata: Mapped[JsonValue | None] = mapped_column(JSON)
    thumbnail_uploaded_at: Mapped[datetime | None] = mapped_column(DateTime)
    auto_download: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    keywords: Mapped[JsonValue | None] = mapped_column(JSON)
    folder_path: Mapped[str | None] = mapped_column(String(500))
    imvdb_metadata: Mapped[JsonValue | None] = mapped_column(JSON)
    genres: Mapped[JsonValue | None] = mapped_column(JSON)
    monitored: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    source: Mapped[str | None] = mapped_column(String(50))
    last_discovery: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    videos: Mapped[list[Video]] = relationship(back_populates="artist", lazy="raise")
    downloads: Mapped[list[Download]] = relationship(back_populates="artist", lazy="raise")

    __table_args__ = (
        Index("idx_artist_name", "name"),
        Index("idx_artist_spotify_id", "spotify_id"),
        Index("idx_artist_monitored", "monitored"),
        Index("idx_artist_source", "source"),
    )


class Video(Base):
    __tablename__ = "videos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artist_id: Mapped[int] = mapped_column(Integer, ForeignKey("artists.id"), nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    imvdb_id: Mapped[str | None] = mapped_column(String(50), unique=True)
    youtube_id: Mapped[str | None] = mapped_column(String(50))
    youtube_url: Mapped[str | None] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(500))
    playlist_id: Mapped[str | None] = mapped_column(String(100))
    playlist_position: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(50))
    thumbnail_url: Mapped[str | None] = mapped_column(String(500))
    thumbnail_path: Mapped[str | None] = mapped_column(String(500))
    thumbnail_source: Mapped[str | None] = mapped_column(String(50))
    thumbnail_metadata: Mapped[JsonValue | None] = mapped_column(JSON)
    thumbnail_uploaded_at: Mapped[datetime | None] = mapped_column(DateTime)
    local_path: Mapped[str | None] = mapped_column(String(500))
    duration: Mapped[int | None] = mapped_column(Integer)
    year: Mapped[int | None] = mapped_column(Integer)
    release_date: Mapped[datetime | None] = mapped_column(DateTime)
    description: Mapped[str | None] = mapped_column(Text)
    view_count: Mapped[int | None] = mapped_column(Integer)
    like_count: Mapped[int | None] = mapped_column(Integer)
    genres: Mapped[JsonValue | None] = mapped_column(JSON)
    directors: Mapped[JsonValue | None] = mapped_column(JSON)
    producers: Mapped[JsonValue | None] = mapped_column(JSON)
    status: Mapped[VideoStatus] = mapped_column(Enum(VideoStatus), nullable=False, default=VideoStatus.WANTED)
    quality: Mapped[str | None] = mapped_column(String(50))
    video_metadata: Mapped[JsonValue | None] = mapped_column(JSON)
    imvdb_metadata: Mapped[JsonValue | None] = mapped_column(JSON)
    search_keywords: Mapped[str | None] = mapped_column(Text)
    discovered_date: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    artist: Mapped[Artist] = relationship(back_populates="videos", lazy="raise")
    downloads: Mapped[list[Download]] = relationship(back_populates="video", lazy="raise")

    __table_args__ = (
        Index("idx_video_artist_id", "artist_id"),
        Index("idx_video_youtube_id", "youtube_id"),
        Index("idx_video_playlist_id", "playlist_id"),
        Index("idx_video_status", "status"),
        Index("idx_video_title", "title"),
        Index("idx_video_source", "source"),
        Index("idx_video_year", "year"),
    )


class Download(Base):
    __tablename__ = "downloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artist_id: Mapped[int] = mapped_column(Integer, ForeignKey("artists.id"), nullable=False)
    video_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("videos.id"))
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    original_url: Mapped[str] = mapped_column(String(500), nullable=False)
    file_path: Mapped[str | None] = mapped_column(String(500))
    file_size: Mapped[int | None] = mapped_column(Integer)
    download_date: Mapped[datetime | None] = mapped_column(DateTime)
    metube_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(50), default="pending", nullable=False)
    priority: Mapped[int] = mapped_column(Integer, default=5, nullable=False)
    progress: Mapped[int | None] = mapped_column(Integer, default=0)
    error_message: Mapped[str | None] = mapped_column(Text)
    quality: Mapped[str | None] = mapped_column(String(50))
    format: Mapped[str | None] = mapped_column(String(50))
    download_metadata: Mapped[JsonValue | None] = mapped_column(JSON)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    artist: Mapped[Artist] = relationship(back_populates="downloads", lazy="raise")
    video: Mapped[Video | None] = relationship(back_populates="downloads", lazy="raise")

    __table_args__ = (
        Index("idx_download_video_id", "video_id"),
        Index("idx_download_status", "status"),
    )


class Playlist(Base):
    __tablename__ = "playlists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id"), nullable=False)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_featured: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    total_duration: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    video_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    playlist_metadata: Mapped[JsonValue | None] = mapped_column(JSON)
    thumbnail_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="raise")
    entries: Mapped[list[PlaylistEntry]] = relationship(
        back_populates="playlist",
        order_by="PlaylistEntry.position",
        cascade="all, delete-orphan",
        lazy="raise",
    )

    __table_args__ = (
        Index("idx_playlist_user_id", "user_id"),
        Index("idx_playlist_public", "is_public"),
    )


class PlaylistEntry(Base):
    __tablename__ = "playlist_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    playlist_id: Mapped[int] = mapped_column(Integer, ForeignKey("playlists.id"), nullable=False)
    video_id: Mapped[int] = mapped_column(Integer, ForeignKey("videos.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    added_by: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    added_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)

    playlist: Mapped[Playlist] = relationship(back_populates="entries", lazy="raise")
    video: Mapped[Video] = relationship(lazy="raise")
    added_by_user: Mapped[User | None] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("playlist_id", "video_id", name="uq_playlist_video"),
        Index("idx_playlist_entry_position", "playlist_id", "position"),
    )


class VideoBlacklist(Base):
    __tablename__ = "video_blacklist"

    youtube_url: Mapped[str] = mapped_column(String(500), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(500))
    artist_name: Mapped[str | None] = mapped_column(String(255))
    blacklisted_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    blacklisted_by: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))


# Tables the legacy app creates and owns. Services-owned tables (added through Alembic) subclass
# the same `Base` but must not be listed here; migrations never touch these.
SHARED_TABLES = frozenset(
    {
        "settings",
        "users",
        "user_sessions",
        "artists",
        "videos",
        "downloads",
        "playlists",
        "playlist_entries",
        "video_blacklist",
    }
)
