"""The settings store, as MVidarr's src/services/settings_service.py keeps it.

`SettingsService` is a class with classmethods and a class-level, per-process dict cache
(`_cache`, `_cache_loaded`) in front of the `settings` table. Every value is a string
("true"/"false" for booleans, JSON text for structures).

THE CACHE WART (kept on purpose, figway must cope with it): once a process has loaded the
cache it never reads the table again until `reload_cache()` is called. A row written by
another process (a second gunicorn worker, the migrated services, a SQL console) is not
seen here: `get()` keeps answering the old value. Writes made *through* this class update
the local cache, so only this process sees them immediately.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from legacy_flask.models import Setting, utcnow

# (key, value, description), the list src/database/init_db.py inserts.
DEFAULT_SETTINGS: list[tuple[str, str, str]] = [
    ("app_port", "5000", "Application port"),
    ("app_host", "0.0.0.0", "Application host"),
    ("downloads_path", "data/downloads", "Downloads directory"),
    ("music_videos_path", "data/musicvideos", "Music videos directory"),
    ("thumbnails_path", "data/thumbnails", "Thumbnails directory"),
    ("metube_host", "localhost", "MeTube host"),
    ("metube_port", "8081", "MeTube port"),
    ("imvdb_api_key", "", "IMVDb API key"),
    ("youtube_api_key", "", "YouTube Data API key"),
    ("video_quality_preference", "best", "Preferred video quality"),
    ("max_concurrent_downloads", "3", "Maximum concurrent downloads"),
    ("enable_notifications", "true", "Enable notifications"),
    ("language", "en", "Interface language"),
    ("debug_mode", "false", "Debug mode"),
    ("spotify_client_id", "", "Spotify client id"),
    ("spotify_client_secret", "", "Spotify client secret"),
    ("spotify_redirect_uri", "http://localhost:5000/api/spotify/callback", "Spotify OAuth redirect URI"),
    ("lastfm_api_key", "", "Last.fm API key"),
    ("lastfm_api_secret", "", "Last.fm API secret"),
    ("ui_theme", "default", "UI theme"),
    ("require_authentication", "false", "Require login for the web interface and API"),
    ("auto_download_schedule_enabled", "false", "Scheduled automatic downloads"),
    ("auto_download_schedule_time", "02:00", "Time of the scheduled download run"),
    ("auto_download_schedule_days", "daily", "Days of the scheduled download run"),
    ("auto_download_max_videos", "10", "Maximum videos per scheduled run"),
    ("musicbrainz_enabled", "true", "Use MusicBrainz for metadata"),
    ("restart_command", '["true"]', "Allow-listed restart command (JSON argv)"),
]

_TRUE = {"true", "1", "yes", "on"}


class SettingsService:
    """Class-level settings cache; see the module docstring for the staleness wart."""

    _cache: dict[str, str | None] = {}
    _cache_loaded: bool = False
    _session_factory: Callable[[], Session] | None = None
    _lock = threading.RLock()

    @classmethod
    def configure(cls, session_factory: Callable[[], Session]) -> None:
        """Point the service at a database; called by `create_app`. Drops the cache."""
        with cls._lock:
            cls._session_factory = session_factory
            cls._cache = {}
            cls._cache_loaded = False

    @classmethod
    def _session(cls) -> Session:
        if cls._session_factory is None:
            raise RuntimeError("SettingsService is not configured")
        return cls._session_factory()

    @classmethod
    def _load_cache(cls) -> None:
        with cls._lock:
            if cls._cache_loaded:
                return
            session = cls._session()
            try:
                rows = session.query(Setting.key, Setting.value).all()
            finally:
                session.close()
            cls._cache = {key: value for key, value in rows}
            cls._cache_loaded = True

    @classmethod
    def reload_cache(cls) -> None:
        with cls._lock:
            cls._cache_loaded = False
            cls._cache = {}
        cls._load_cache()

    @classmethod
    def get(cls, key: str, default: Any = None) -> Any:
        cls._load_cache()
        value = cls._cache.get(key)
        return default if value is None else value

    @classmethod
    def get_int(cls, key: str, default: int = 0) -> int:
        try:
            return int(cls.get(key, default))
        except (TypeError, ValueError):
            return default

    @classmethod
    def get_bool(cls, key: str, default: bool = False) -> bool:
        value = cls.get(key)
        if value is None:
            return default
        return str(value).strip().lower() in _TRUE

    @classmethod
    def get_json(cls, key: str, default: Any = None) -> Any:
        value = cls.get(key)
        if value in (None, ""):
            return default
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return default

    @staticmethod
    def _to_str(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return "" if value is None else str(value)

    @classmethod
    def set(cls, key: str, value: Any, description: str | None = None) -> bool:
        return cls.set_multiple({key: value}, descriptions={key: description} if description else None)

    @classmethod
    def set_multiple(cls, values: dict[str, Any], descriptions: dict[str, str | None] | None = None) -> bool:
        descriptions = descriptions or {}
        cls._load_cache()
        session = cls._session()
        try:
            written: dict[str, str] = {}
            for key, raw in values.items():
                value = cls._to_str(raw)
                row = session.query(Setting).filter_by(key=key).first()
                if row is None:
                    row = Setting(key=key, value=value, description=descriptions.get(key))
                    session.add(row)
                else:
                    row.value = value
                    row.updated_at = utcnow()
                    if descriptions.get(key):
                        row.description = descriptions[key]
                written[key] = value
            session.commit()
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()
        with cls._lock:
            cls._cache.update(written)
        return True

    @classmethod
    def get_all(cls) -> dict[str, str | None]:
        cls._load_cache()
        with cls._lock:
            return dict(cls._cache)

    @classmethod
    def delete(cls, key: str) -> bool:
        session = cls._session()
        try:
            deleted = session.query(Setting).filter_by(key=key).delete()
            session.commit()
        finally:
            session.close()
        with cls._lock:
            cls._cache.pop(key, None)
        return bool(deleted)

    @classmethod
    def initialize_defaults(cls, session: Session, now: datetime | None = None) -> int:
        """Insert the default settings that are missing; returns how many were added."""
        now = now or utcnow()
        existing = {key for (key,) in session.query(Setting.key).all()}
        missing = [
            Setting(key=key, value=value, description=description, created_at=now, updated_at=now)
            for key, value, description in DEFAULT_SETTINGS
            if key not in existing
        ]
        session.add_all(missing)
        session.commit()
        return len(missing)
