"""Artist and video metadata enrichment, as MVidarr's metadata_enrichment_service.py.

The providers are asked one after another with blocking `requests` (Spotify, MusicBrainz,
Last.fm, IMVDb), inside an `async def` that never awaits anything: the Flask route runs it
on a fresh event loop per request, exactly as MVidarr does. A provider that fails is noted
in `errors` and the others still run; only a database fault escapes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from legacy_flask.models import Artist, Video, utcnow
from legacy_flask.providers import ProviderError, ProviderNotConfigured
from legacy_flask.providers.imvdb import imvdb_service
from legacy_flask.providers.lastfm import lastfm_service
from legacy_flask.providers.musicbrainz import musicbrainz_service
from legacy_flask.providers.spotify import spotify_service
from legacy_flask.settings_service import SettingsService

log = logging.getLogger("legacy_flask.enrichment")

SOURCE_WEIGHTS = {"musicbrainz": 0.95, "spotify": 0.9, "imvdb": 0.85, "lastfm": 0.8, "wikipedia": 0.7}
MIN_CONFIDENCE = 0.7
CACHE_DURATION_HOURS = 24
MAX_GENRES = 10


@dataclass
class EnrichmentResult:
    success: bool
    artist_id: int
    sources_used: list[str] = field(default_factory=list)
    enriched_fields: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    confidence_score: float = 0.0
    processing_time: float = 0.0
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: bool = False
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if data["message"] is None:
            del data["message"]
        return data


class ArtistNotFound(LookupError):
    pass


def _enrichment_date(artist: Artist) -> datetime | None:
    raw = (artist.imvdb_metadata or {}).get("enrichment_date")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        return None


def _call(result: EnrichmentResult, provider: str, fn: Any, *args: Any) -> Any:
    """Run one provider lookup, recording its outcome in the per-provider summary."""
    started = time.monotonic()
    summary: dict[str, Any] = {}
    try:
        data = fn(*args)
    except ProviderNotConfigured as exc:
        summary = {"status": "not_configured", "message": str(exc)}
        data = None
    except ProviderError as exc:
        summary = {"status": "error", "message": str(exc)}
        result.errors.append(f"{provider}: {exc}")
        data = None
    except Exception as exc:  # noqa: BLE001 - MVidarr catches everything per source
        log.exception("enrichment provider %s crashed", provider)
        summary = {"status": "error", "message": str(exc)}
        result.errors.append(f"{provider}: {exc}")
        data = None
    else:
        summary = {"status": "found" if data else "not_found"}
        if data:
            result.sources_used.append(provider)
    summary["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    result.providers[provider] = summary
    return data


def _merge_genres(existing: list[str] | None, *groups: list[str]) -> list[str]:
    merged: list[str] = []
    seen: set[str] = set()
    for genre in [*(existing or []), *(g for group in groups for g in group)]:
        name = str(genre).strip().lower()
        if name and name not in seen:
            seen.add(name)
            merged.append(name)
    return merged[:MAX_GENRES]


async def enrich_artist_metadata(
    session: Session, artist_id: int, force_refresh: bool = False
) -> EnrichmentResult:
    started = time.monotonic()
    artist = session.get(Artist, artist_id)
    if artist is None:
        raise ArtistNotFound(f"Artist {artist_id} not found")
    result = EnrichmentResult(success=False, artist_id=artist_id)

    last = _enrichment_date(artist)
    if not force_refresh and last is not None and utcnow() - last < timedelta(hours=CACHE_DURATION_HOURS):
        result.success = True
        result.skipped = True
        result.message = "Artist metadata is fresh (enriched within 24 hours); use force=true to refresh"
        result.processing_time = round(time.monotonic() - started, 3)
        return result

    name = artist.name
    spotify = _call(result, "spotify", spotify_service.find_artist, name)
    if SettingsService.get_bool("musicbrainz_enabled", True):
        musicbrainz = _call(result, "musicbrainz", musicbrainz_service.find_artist, name)
    else:
        musicbrainz = None
        result.providers["musicbrainz"] = {"status": "disabled", "elapsed_ms": 0.0}
    lastfm = _call(result, "lastfm", lastfm_service.get_artist_info, name)
    imvdb = _call(result, "imvdb", imvdb_service.find_artist, name)

    fields: list[str] = []
    metadata = dict(artist.imvdb_metadata or {})
    if spotify and spotify.get("id") and artist.spotify_id != spotify["id"]:
        artist.spotify_id = str(spotify["id"])
        fields.append("spotify_id")
    if lastfm and lastfm.get("name") and artist.lastfm_name != lastfm["name"]:
        artist.lastfm_name = str(lastfm["name"])
        fields.append("lastfm_name")
    if imvdb and imvdb.get("id") is not None:
        imvdb_id = str(imvdb["id"])
        holder = session.query(Artist.id).filter(Artist.imvdb_id == imvdb_id, Artist.id != artist.id).first()
        if holder is not None:
            result.errors.append(f"imvdb: id {imvdb_id} already belongs to artist {holder[0]}")
        elif artist.imvdb_id != imvdb_id:
            artist.imvdb_id = imvdb_id
            fields.append("imvdb_id")
    if musicbrainz and musicbrainz.get("id") and metadata.get("musicbrainz_id") != musicbrainz["id"]:
        metadata["musicbrainz_id"] = str(musicbrainz["id"])
        fields.append("musicbrainz_id")

    genres = _merge_genres(
        artist.genres,
        list((spotify or {}).get("genres") or []),
        [t.get("name", "") for t in (musicbrainz or {}).get("tags") or []],
        [t.get("name", "") for t in ((lastfm or {}).get("tags") or {}).get("tag") or []],
    )
    if genres != (artist.genres or []):
        artist.genres = genres
        fields.append("genres")

    if result.sources_used:
        metadata["enrichment_date"] = utcnow().isoformat()
        metadata["enrichment_sources"] = list(result.sources_used)
        artist.imvdb_metadata = metadata
        session.commit()
    else:
        session.rollback()

    result.enriched_fields = fields
    weights = [SOURCE_WEIGHTS[s] for s in result.sources_used]
    result.confidence_score = round(sum(weights) / len(weights), 3) if weights else 0.0
    result.success = bool(result.sources_used) and result.confidence_score >= MIN_CONFIDENCE
    result.processing_time = round(time.monotonic() - started, 3)
    log.info(
        "enrichment.artist artist_id=%s sources=%s fields=%s errors=%d",
        artist_id,
        ",".join(result.sources_used) or "-",
        ",".join(fields) or "-",
        len(result.errors),
    )
    return result


def _video_imvdb(result: EnrichmentResult, video: Video, artist_name: str) -> dict[str, Any] | None:
    def lookup() -> dict[str, Any] | None:
        if video.imvdb_id:
            found = imvdb_service.get_video(video.imvdb_id)
            if found:
                return found
        hit = imvdb_service.find_video(artist_name, video.title)
        return imvdb_service.get_video(hit["id"]) if hit else None

    data: dict[str, Any] | None = _call(result, "imvdb", lookup)
    return data


def refresh_video_metadata(session: Session, video: Video) -> EnrichmentResult:
    """IMVDb video details + Last.fm track.getinfo, merged into the video row."""
    started = time.monotonic()
    result = EnrichmentResult(success=False, artist_id=video.artist_id)
    artist_name = video.artist.name if video.artist else ""
    imvdb = _video_imvdb(result, video, artist_name)
    track = _call(result, "lastfm", lastfm_service.get_track_info, artist_name, video.title)

    fields: list[str] = []

    def put(attr: str, value: Any) -> None:
        if value not in (None, "", []) and getattr(video, attr) != value:
            setattr(video, attr, value)
            fields.append(attr)

    if imvdb:
        imvdb_id = str(imvdb["id"])
        holder = session.query(Video.id).filter(Video.imvdb_id == imvdb_id, Video.id != video.id).first()
        if holder is not None:
            result.errors.append(f"imvdb: id {imvdb_id} already belongs to video {holder[0]}")
        else:
            put("imvdb_id", imvdb_id)
        put("year", imvdb.get("year"))
        put("thumbnail_url", (imvdb.get("image") or {}).get("l"))
        put("directors", [d.get("entity_name") for d in imvdb.get("directors") or [] if d.get("entity_name")])
        youtube = next((s for s in imvdb.get("sources") or [] if s.get("source") == "youtube"), None)
        if youtube and not video.youtube_id:
            put("youtube_id", youtube.get("source_data"))
            put("youtube_url", f"https://www.youtube.com/watch?v={youtube.get('source_data')}")
        put("imvdb_metadata", {**(video.imvdb_metadata or {}), **imvdb})
    if track:
        try:
            duration_ms = int(track.get("duration") or 0)
        except (TypeError, ValueError):
            duration_ms = 0
        if duration_ms and not video.duration:
            put("duration", duration_ms // 1000)
        tags = [t.get("name", "") for t in (track.get("toptags") or {}).get("tag") or []]
        put("genres", _merge_genres(video.genres, tags))
        lastfm_meta = {
            "lastfm_url": track.get("url"),
            "lastfm_listeners": track.get("listeners"),
            "lastfm_playcount": track.get("playcount"),
        }
        put("video_metadata", {**(video.video_metadata or {}), **lastfm_meta})
    if result.sources_used:
        metadata = dict(video.video_metadata or {})
        metadata["metadata_refreshed_at"] = utcnow().isoformat()
        video.video_metadata = metadata
        session.commit()
    else:
        session.rollback()
    result.enriched_fields = fields
    weights = [SOURCE_WEIGHTS[s] for s in result.sources_used]
    result.confidence_score = round(sum(weights) / len(weights), 3) if weights else 0.0
    result.success = bool(result.sources_used)
    result.processing_time = round(time.monotonic() - started, 3)
    log.info(
        "enrichment.video video_id=%s sources=%s fields=%s errors=%d",
        video.id,
        ",".join(result.sources_used) or "-",
        ",".join(fields) or "-",
        len(result.errors),
    )
    return result
