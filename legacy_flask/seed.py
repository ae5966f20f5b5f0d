"""Repeatable demo data, in the spirit of MVidarr's src/database/init_db.py (+ default settings).

`seed(engine, scale=1.0)` writes about 200 artists, 5,000 videos, 50 playlists with entries,
some downloads, the default settings and one user per role (`admin`, `manager`, `user`,
`readonly`, password from FIGWAY_DEMO_PASSWORD). Everything derives from
`random.Random(SEED)` and fixed timestamps, with explicit primary keys, so two runs give the
same rows. Artist *i* (id = i) is named `artist_name(i)` and video *i* is titled
`video_title(i)`: the fake provider server derives its answers from these functions.
"""

from __future__ import annotations

import functools
import random
import string
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from legacy_flask.auth.service import hash_password
from legacy_flask.database import init_db
from legacy_flask.models import (
    Artist,
    Download,
    Playlist,
    PlaylistEntry,
    Setting,
    User,
    UserRole,
    UserSession,
    Video,
    VideoBlacklist,
    VideoStatus,
)
from legacy_flask.settings_service import DEFAULT_SETTINGS

SEED = 20250801
ARTISTS = 200
VIDEOS = 5000
PLAYLISTS = 50
BASE_TIME = datetime(2025, 1, 1, 12, 0, 0)
DEMO_USERS = (
    ("admin", UserRole.ADMIN),
    ("manager", UserRole.MANAGER),
    ("user", UserRole.USER),
    ("readonly", UserRole.READONLY),
)

_ADJECTIVES = (
    "Velvet", "Neon", "Silver", "Electric", "Crimson", "Hollow", "Golden", "Midnight", "Paper", "Static",
    "Lunar", "Wild", "Quiet", "Broken", "Crystal", "Burning", "Northern", "Echo", "Violet", "Rusty",
)  # fmt: skip
_NOUNS = (
    "Foxes", "Harbors", "Pilots", "Engines", "Ravens", "Tigers", "Satellites", "Gardens", "Wolves",
    "Comets", "Lanterns", "Rivers", "Saints", "Machines", "Dreamers", "Owls", "Arcades", "Monarchs",
    "Sparrows", "Tides",
)  # fmt: skip
_FIRST = (
    "Nova", "Mila", "Jonas", "Aria", "Leo", "Sade", "Kai", "Ines", "Theo", "Luna",
    "Omar", "Freya", "Ravi", "Zoe", "Hugo", "Maya", "Elio", "Noor", "Ivy", "Sami",
)  # fmt: skip
_LAST = (
    "Reyes", "Lindqvist", "Okafor", "Moreau", "Tanaka", "Novak", "Silva", "Haddad", "Kowalski", "Brennan",
    "Costa", "Varga", "Lund", "Mensah", "Petrov", "Quinn", "Abara", "Falk", "Ishikawa", "Duarte",
)  # fmt: skip
_TITLE_A = (
    "Running", "Falling", "Dancing", "Waiting", "Burning", "Floating", "Shining", "Drifting", "Chasing",
    "Holding", "Breaking", "Calling", "Fading", "Rising", "Spinning", "Dreaming",
)  # fmt: skip
_TITLE_B = (
    "Lights", "Hearts", "Shadows", "Summer", "Signals", "Water", "Stars", "Home", "Gold", "Thunder",
    "Glass", "Fire", "Neon", "Static", "Rain", "Silence", "Mirrors", "Daylight", "Wires",
)  # fmt: skip
GENRES = ("pop", "rock", "indie", "electronic", "hip hop", "r&b", "metal", "folk", "jazz", "soul", "punk")
QUALITIES = ("1080p", "720p", "480p", "best")
SOURCES = ("imvdb", "youtube_playlist", "manual")
STATUS_WEIGHTS = (
    (VideoStatus.WANTED, 30),
    (VideoStatus.DOWNLOADED, 45),
    (VideoStatus.DOWNLOADING, 3),
    (VideoStatus.IGNORED, 10),
    (VideoStatus.FAILED, 5),
    (VideoStatus.MONITORED, 7),
)


def artist_name(i: int) -> str:
    """The name of seeded artist `i` (1-based, equal to its id); unique for every i >= 1."""
    k = i - 1
    half, pattern = divmod(k, 2)
    cycle, slot = divmod(half, 400)
    if pattern == 0:
        name = f"The {_ADJECTIVES[slot % 20]} {_NOUNS[slot // 20]}"
    else:
        name = f"{_FIRST[slot % 20]} {_LAST[slot // 20]}"
    return name if cycle == 0 else f"{name} {cycle + 1}"


def video_title(i: int) -> str:
    """The title of seeded video `i` (1-based, equal to its id)."""
    k = i - 1
    base = f"{_TITLE_A[k % len(_TITLE_A)]} {_TITLE_B[(k // len(_TITLE_A)) % len(_TITLE_B)]}"
    part = k // (len(_TITLE_A) * len(_TITLE_B))
    return base if part == 0 else f"{base} (Part {part + 1})"


def video_imvdb_id(i: int) -> str | None:
    """IMVDb id of seeded video `i`: three videos in four have one."""
    return None if i % 4 == 0 else str(900000 + i)


def _count(n: int, scale: float) -> int:
    return max(1, round(n * scale))


def _youtube_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(11))


def _artists(count: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(1, count + 1):
        created = BASE_TIME + timedelta(hours=i)
        rows.append(
            {
                "id": i,
                "name": artist_name(i),
                "auto_download": i % 5 == 0,
                "keywords": [],
                "monitored": i % 7 != 0,
                "source": "imvdb" if i % 3 else "manual",
                "thumbnail_url": f"https://images.example.invalid/artists/{i}.jpg" if i % 2 else None,
                "imvdb_metadata": None,
                "genres": [],
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def _videos(rng: random.Random, count: int, artist_count: int) -> list[dict[str, Any]]:
    statuses = [status for status, _ in STATUS_WEIGHTS]
    weights = [weight for _, weight in STATUS_WEIGHTS]
    rows = []
    for i in range(1, count + 1):
        youtube_id = _youtube_id(rng)
        created = BASE_TIME + timedelta(days=30, minutes=7 * i)
        status = rng.choices(statuses, weights)[0]
        rows.append(
            {
                "id": i,
                "artist_id": rng.randint(1, artist_count),
                "title": video_title(i),
                "imvdb_id": video_imvdb_id(i),
                "youtube_id": youtube_id,
                "youtube_url": f"https://www.youtube.com/watch?v={youtube_id}",
                "source": rng.choice(SOURCES),
                "thumbnail_url": f"https://i.ytimg.com/vi/{youtube_id}/hqdefault.jpg"
                if rng.random() < 0.8
                else None,
                "local_path": f"/data/musicvideos/{i}.mp4" if status == VideoStatus.DOWNLOADED else None,
                "duration": rng.randint(150, 420),
                "year": rng.randint(1978, 2025),
                "genres": rng.sample(GENRES, rng.randint(1, 2)),
                "status": status,
                "quality": rng.choice(QUALITIES),
                "video_metadata": {"view_count": rng.randint(1_000, 50_000_000)},
                "search_keywords": None,
                "discovered_date": created,
                "created_at": created,
                "updated_at": created,
            }
        )
    return rows


def _downloads(videos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for video in videos:
        if video["status"] != VideoStatus.DOWNLOADED or video["id"] % 10:
            continue
        rows.append(
            {
                "id": len(rows) + 1,
                "artist_id": video["artist_id"],
                "video_id": video["id"],
                "title": video["title"],
                "original_url": video["youtube_url"],
                "file_path": video["local_path"],
                "status": "completed",
                "priority": 5,
                "progress": 100,
                "quality": video["quality"],
                "format": "mp4",
                "download_date": video["created_at"],
                "created_at": video["created_at"],
                "updated_at": video["created_at"],
            }
        )
    return rows


def _settings() -> list[dict[str, Any]]:
    return [
        {
            "id": index,
            "key": key,
            "value": value,
            "description": description,
            "created_at": BASE_TIME,
            "updated_at": BASE_TIME,
        }
        for index, (key, value, description) in enumerate(DEFAULT_SETTINGS, start=1)
    ]


@functools.lru_cache(maxsize=4)
def _demo_hash(password: str) -> str:
    # Hashing is the slow part of a small seed; one hash per password per process is plenty.
    return hash_password(password)


def _users(password: str) -> list[dict[str, Any]]:
    password_hash = _demo_hash(password)
    return [
        {
            "id": index,
            "username": username,
            "email": f"{username}@figway.local",
            "password_hash": password_hash,
            "role": role,
            "is_active": True,
            "is_email_verified": True,
            "failed_login_attempts": 0,
            "two_factor_enabled": False,
            "created_at": BASE_TIME,
            "updated_at": BASE_TIME,
        }
        for index, (username, role) in enumerate(DEMO_USERS, start=1)
    ]


def _playlists(
    rng: random.Random, count: int, videos: list[dict[str, Any]], user_count: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    durations = {video["id"]: video["duration"] for video in videos}
    playlists, entries = [], []
    for i in range(1, count + 1):
        user_id = rng.randint(1, user_count)
        picked = rng.sample(sorted(durations), min(len(durations), rng.randint(5, 40)))
        created = BASE_TIME + timedelta(days=60, hours=i)
        for position, video_id in enumerate(picked):
            entries.append(
                {
                    "id": len(entries) + 1,
                    "playlist_id": i,
                    "video_id": video_id,
                    "position": position,
                    "added_by": user_id,
                    "added_at": created,
                }
            )
        playlists.append(
            {
                "id": i,
                "name": f"{rng.choice(_ADJECTIVES)} {rng.choice(_TITLE_B)} Mix #{i}",
                "description": f"Demo playlist {i}",
                "user_id": user_id,
                "is_public": rng.random() < 0.5,
                "is_featured": rng.random() < 0.1,
                "video_count": len(picked),
                "total_duration": sum(durations[v] for v in picked),
                "created_at": created,
                "updated_at": created,
            }
        )
    return playlists, entries


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]], chunk: int = 1000) -> None:
    for start in range(0, len(rows), chunk):
        session.execute(insert(model), rows[start : start + chunk])


def clear(session: Session) -> None:
    """Delete every seeded table's rows, children first."""
    for model in (
        PlaylistEntry,
        Playlist,
        Download,
        VideoBlacklist,
        Video,
        Artist,
        UserSession,
        User,
        Setting,
    ):
        session.query(model).delete(synchronize_session=False)
    session.commit()


def has_users(engine: Engine) -> bool:
    init_db(engine)
    with Session(engine) as session:
        return bool(session.query(func.count(User.id)).scalar())


def seed(
    engine: Engine,
    *,
    scale: float = 1.0,
    password: str = "Figway-demo-1",
    progress: Callable[[str], None] = lambda _line: None,
) -> dict[str, int]:
    """Replace the demo data with a fresh deterministic set; returns the row counts."""
    rng = random.Random(SEED)
    init_db(engine)
    artist_count = _count(ARTISTS, scale)
    video_count = _count(VIDEOS, scale)
    playlist_count = _count(PLAYLISTS, scale)
    with Session(engine) as session:
        clear(session)
        progress(f"seed: {len(DEFAULT_SETTINGS)} default settings")
        _bulk(session, Setting, _settings())
        progress(f"seed: {len(DEMO_USERS)} users ({', '.join(name for name, _ in DEMO_USERS)})")
        _bulk(session, User, _users(password))
        progress(f"seed: {artist_count} artists")
        _bulk(session, Artist, _artists(artist_count))
        progress(f"seed: {video_count} videos")
        videos = _videos(rng, video_count, artist_count)
        _bulk(session, Video, videos)
        downloads = _downloads(videos)
        progress(f"seed: {len(downloads)} downloads")
        _bulk(session, Download, downloads)
        playlists, entries = _playlists(rng, playlist_count, videos, len(DEMO_USERS))
        progress(f"seed: {len(playlists)} playlists with {len(entries)} entries")
        _bulk(session, Playlist, playlists)
        _bulk(session, PlaylistEntry, entries)
        session.commit()
    return {
        "users": len(DEMO_USERS),
        "artists": artist_count,
        "videos": video_count,
        "downloads": len(downloads),
        "playlists": len(playlists),
        "playlist_entries": len(entries),
    }
