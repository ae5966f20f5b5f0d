"""The shared schema, as MVidarr declares it (src/database/models.py).

The legacy app owns these tables: it creates them (`python -m legacy_flask init-db`) and the
migrated services map them with their own models. Enum columns store the UPPERCASE names, as
MVidarr's SQLEnum columns do. Datetimes are naive UTC, as `datetime.utcnow` gave them.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> datetime:
    """Naive UTC now, the way the legacy code stores every timestamp."""
    return datetime.now(UTC).replace(tzinfo=None)


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

    id = Column(Integer, primary_key=True)
    key = Column(String(255), unique=True, nullable=False)
    value = Column(Text)
    description = Column(Text)
    created_at = Column(DateTime, default=utcnow)
    updated_at = Column(DateTime, default=utcnow, onupdate=utcnow)


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    username = Column(String(80), unique=True, nullable=False)
    email = Column(String(120), unique=True, nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(Enum(UserRole), nullable=False, default=UserRole.USER)
    is_active = Column(Boolean, default=True, nullable=False)
    is_email_verified = Column(Boolean, default=False, nullable=False)
    failed_login_attempts = Column(Integer, default=0, nullable=False)
    locked_until = Column(DateTime)
    last_login = Column(DateTime)
    last_login_ip = Column(String(45))
    password_changed_at = Column(DateTime)
    email_verification_token = Column(String(255))
    password_reset_token = Column(String(255))
    password_reset_expires = Column(DateTime)
    two_factor_secret = Column(String(32))
    two_factor_enabled = Column(Boolean, default=False, nullable=False)
    backup_codes = Column(JSON)
    preferences = Column(JSON)
    created_at = Column(DateTime, default=utcnow)
    updated_at = Column(DateTime, default=utcnow, onupdate=utcnow)

    sessions = relationship("UserSession", back_populates="user", cascade="all, delete-orphan")

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

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > utcnow()

    def lock_account(self, minutes: int = 30) -> None:
        self.locked_until = utcnow() + timedelta(minutes=minutes)

    def increment_failed_login(self) -> None:
        self.failed_login_attempts = (self.failed_login_attempts or 0) + 1
        if self.failed_login_attempts >= 5:
            self.lock_account(30)

    def reset_failed_login(self) -> None:
        self.failed_login_attempts = 0
        self.locked_until = None

    def to_dict(self, include_sensitive: bool = False) -> dict[str, object]:
        data: dict[str, object] = {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "role": self.role.value,
            "is_active": self.is_active,
            "is_email_verified": self.is_email_verified,
            "two_factor_enabled": self.two_factor_enabled,
            "last_login": self.last_login.isoformat() if self.last_login else None,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }
        if include_sensitive:
            data["failed_login_attempts"] = self.failed_login_attempts
            data["locked_until"] = self.locked_until.isoformat() if self.locked_until else None
            data["last_login_ip"] = self.last_login_ip
        return data


class UserSession(Base):
    __tablename__ = "user_sessions"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False, index=True)
    session_token = Column(String(255), unique=True, nullable=False)
    status = Column(Enum(SessionStatus), nullable=False, default=SessionStatus.ACTIVE)
    ip_address = Column(String(45))
    user_agent = Column(Text)
    created_at = Column(DateTime, default=utcnow)
    last_activity = Column(DateTime, default=utcnow)
    expires_at = Column(DateTime, nullable=False)

    user = relationship("User", back_populates="sessions")


class Artist(Base):
    __tablename__ = "artists"

    id = Column(Integer, primary_key=True)
    name = Column(String(255), nullable=False)
    imvdb_id = Column(String(50), unique=True)
    spotify_id = Column(String(255))
    lastfm_name = Column(String(255))
    thumbnail_url = Column(String(500))
    thumbnail_path = Column(String(500))
    thumbnail_source = Column(String(50))
    thumbnail_metadata = Column(JSON)
    thumbnail_uploaded_at = Column(DateTime)
    auto_download = Column(Boolean, default=False, nullable=False)
    keywords = Column(JSON)
    folder_path = Column(String(500))
    imvdb_metadata = Column(JSON)
    genres = Column(JSON)
    monitored = Column(Boolean, default=True, nullable=False)
    source = Column(String(50))
    last_discovery = Column(DateTime)
    created_at = Column(DateTime, default=utcnow)
    updated_at = Column(DateTime, default=utcnow, onupdate=utcnow)

    videos = relationship("Video", back_populates="artist")
    downloads = relationship("Download", back_populates="artist")

    __table_args__ = (
        Index("idx_artist_name", "name"),
        Index("idx_artist_spotify_id", "spotify_id"),
        Index("idx_artist_monitored", "monitored"),
        Index("idx_artist_source", "source"),
    )


class Video(Base):
    __tablename__ = "videos"

    id = Column(Integer, primary_key=True)
    artist_id = Column(Integer, ForeignKey("artists.id"), nullable=False)
    title = Column(String(500), nullable=False)
    imvdb_id = Column(String(50), unique=True)
    youtube_id = Column(String(50))
    youtube_url = Column(String(500))
    url = Column(String(500))
    playlist_id = Column(String(100))
    playlist_position = Column(Integer)
    source = Column(String(50))
    thumbnail_url = Column(String(500))
    thumbnail_path = Column(String(500))
    thumbnail_source = Column(String(50))
    thumbnail_metadata = Column(JSON)
    thumbnail_uploaded_at = Column(DateTime)
    local_path = Column(String(500))
    duration = Column(Integer)
    year = Column(Integer)
    release_date = Column(DateTime)
    description = Column(Text)
    view_count = Column(Integer)
    like_count = Column(Integer)
    genres = Column(JSON)
    directors = Column(JSON)
    producers = Column(JSON)
    status = Column(Enum(VideoStatus), nullable=False, default=VideoStatus.WANTED)
    quality = Column(String(50))
    video_metadata = Column(JSON)
    imvdb_metadata = Column(JSON)
    search_keywords = Column(Text)
    discovered_date = Column(DateTime, default=utcnow)
    created_at = Column(DateTime, default=utcnow)
    updated_at = Column(DateTime, default=utcnow, onupdate=utcnow)

    artist = relationship("Artist", back_populates="videos")
    downloads = relationship("Download", back_populates="video")

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

    id = Column(Integer, primary_key=True)
    artist_id = Column(Integer, ForeignKey("artists.id"), nullable=False)
    video_id = Column(Integer, ForeignKey("videos.id"))
    title = Column(String(500), nullable=False)
    original_url = Column(String(500), nullable=False)
    file_path = Column(String(500))
    file_size = Column(Integer)
    download_date = Column(DateTime)
    metube_id = Column(String(100))
    status = Column(String(50), default="pending", nullable=False)
    priority = Column(Integer, default=5, nullable=False)
    progress = Column(Integer, default=0)
    error_message = Column(Text)
    quality = Column(String(50))
    format = Column(String(50))
    download_metadata = Column(JSON)
    created_at = Column(DateTime, default=utcnow)
    updated_at = Column(DateTime, default=utcnow, onupdate=utcnow)

    artist = relationship("Artist", back_populates="downloads")
    video = relationship("Video", back_populates="downloads")

    __table_args__ = (
        Index("idx_download_video_id", "video_id"),
        Index("idx_download_status", "status"),
    )


class Playlist(Base):
    __tablename__ = "playlists"

    id = Column(Integer, primary_key=True)
    name = Column(String(255), nullable=False)
    description = Column(Text)
    user_id = Column(Integer, ForeignKey("users.id"), nullable=False)
    is_public = Column(Boolean, default=False, nullable=False)
    is_featured = Column(Boolean, default=False, nullable=False)
    total_duration = Column(Integer, default=0, nullable=False)
    video_count = Column(Integer, default=0, nullable=False)
    playlist_metadata = Column(JSON)
    thumbnail_url = Column(String(500))
    created_at = Column(DateTime, default=utcnow)
    updated_at = Column(DateTime, default=utcnow, onupdate=utcnow)

    user = relationship("User")
    entries = relationship(
        "PlaylistEntry",
        back_populates="playlist",
        order_by="PlaylistEntry.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        Index("idx_playlist_user_id", "user_id"),
        Index("idx_playlist_public", "is_public"),
    )


class PlaylistEntry(Base):
    __tablename__ = "playlist_entries"

    id = Column(Integer, primary_key=True)
    playlist_id = Column(Integer, ForeignKey("playlists.id"), nullable=False)
    video_id = Column(Integer, ForeignKey("videos.id"), nullable=False)
    position = Column(Integer, nullable=False)
    notes = Column(Text)
    added_by = Column(Integer, ForeignKey("users.id"))
    added_at = Column(DateTime, default=utcnow)

    playlist = relationship("Playlist", back_populates="entries")
    video = relationship("Video")
    added_by_user = relationship("User")

    __table_args__ = (
        UniqueConstraint("playlist_id", "video_id", name="uq_playlist_video"),
        Index("idx_playlist_entry_position", "playlist_id", "position"),
    )


class VideoBlacklist(Base):
    __tablename__ = "video_blacklist"

    youtube_url = Column(String(500), primary_key=True)
    title = Column(String(500))
    artist_name = Column(String(255))
    blacklisted_at = Column(DateTime, default=utcnow)
    blacklisted_by = Column(Integer, ForeignKey("users.id"))
