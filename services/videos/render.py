"""Videos as legacy renders them (`video_dict`), from a Video or from `VideoRepository.rows()`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from services._legacy_http import iso
from services._legacy_json import as_read
from services.models import Video, VideoStatus


def video_dict(row: Any, *, genres: bool = False) -> dict[str, Any]:
    """A Video plus `artist_name` (or any row with those attributes) as legacy's `video_dict`."""
    status = row.status
    data: dict[str, Any] = {
        "id": row.id,
        "title": row.title,
        "artist_id": row.artist_id,
        "artist_name": row.artist_name,
        "status": status.value if isinstance(status, VideoStatus) else status,
        "imvdb_id": row.imvdb_id,
        "video_url": row.youtube_url or row.url,
        "local_path": row.local_path,
        "thumbnail_url": row.thumbnail_url,
        "duration": as_read(row.duration),
        "quality": row.quality,
        "year": as_read(row.year),
        "video_metadata": row.video_metadata,
        "created_at": iso(row.created_at),
    }
    if genres:
        data["genres"] = row.genres or []
    return data


def video_dicts(rows: Iterable[Sequence[Any]], *, genres: bool = False) -> list[dict[str, Any]]:
    """`video_dict` of many `VideoRepository.rows()` rows, read by position: a Row's attribute
    lookup costs about four times an unpacking, and a list page makes 750 of them."""
    dicts = []
    for row in rows:
        (id_, title, artist_id, status, imvdb_id, youtube_url, url, local_path, thumbnail_url,
         duration, quality, year, video_metadata, created_at, *rest) = row  # fmt: skip
        if duration.__class__ is float or year.__class__ is float:  # SQLite: see as_read
            duration, year = as_read(duration), as_read(year)
        data: dict[str, Any] = {
            "id": id_,
            "title": title,
            "artist_id": artist_id,
            "artist_name": rest[1] if genres else rest[0],
            "status": status.value if isinstance(status, VideoStatus) else status,
            "imvdb_id": imvdb_id,
            "video_url": youtube_url or url,
            "local_path": local_path,
            "thumbnail_url": thumbnail_url,
            "duration": duration,
            "quality": quality,
            "year": year,
            "video_metadata": video_metadata,
            "created_at": iso(created_at),
        }
        if genres:
            data["genres"] = rest[0] or []
        dicts.append(data)
    return dicts


class WithArtist:
    """A Video seen through `video_dict` with its artist's name."""

    def __init__(self, video: Video, artist_name: str | None) -> None:
        self._video = video
        self.artist_name = artist_name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._video, name)
