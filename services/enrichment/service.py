"""Enrichment itself: the same lookups and merge rules as legacy, with the providers asked
concurrently and the database touched in two short transactions (read, then write) so no
connection is held while the providers answer.

The merge gives the legacy result for the same provider answers: sources are recorded in
legacy's order (spotify, musicbrainz, lastfm, imvdb; for videos imvdb, lastfm) whatever order
they answer in, and nothing is written when no source answered.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from services._bounds import row_id
from services._legacy_json import as_read
from services.app_settings.cache import SettingsCache
from services.enrichment.result import MIN_CONFIDENCE, EnrichmentResult, Outcome, disabled, lookup
from services.enrichment.store import ArtistState, EnrichmentStore
from services.models import Video, utcnow
from services.providers import ProviderHub, ProviderKeys
from services.providers.models import ImvdbVideo, LastfmTrack

log = structlog.get_logger("services.enrichment")

CACHE_DURATION = timedelta(hours=24)
MAX_GENRES = 10
MUSICBRAINZ_ID = "imvdb_metadata.musicbrainz_id"  # not a column: a key of artists.imvdb_metadata
FRESH_MESSAGE = "Artist metadata is fresh (enriched within 24 hours); use force=true to refresh"


class ArtistNotFound(LookupError):
    pass


@dataclass
class Enricher:
    """What enrichment needs from the app: sessions, the settings cache and the providers."""

    sessions: async_sessionmaker[AsyncSession]
    settings_cache: SettingsCache
    providers: ProviderHub
    # SQLite has one writer at a time; queueing our writers here costs nothing, while letting
    # them meet in SQLite's busy handler costs sleeps of up to 100 ms per collision.
    write_lock: asyncio.Lock | None = None
    # The reads before the providers are asked (services.db: one round trip per read on MariaDB).
    read_sessions: async_sessionmaker[AsyncSession] | None = None
    # Artist enrichment's connections (services/enrichment/store.py), shared by the process.
    store: EnrichmentStore | None = None

    def artist_store(self) -> EnrichmentStore:
        if self.store is None:
            raise RuntimeError("artist enrichment needs the process's EnrichmentStore")
        return self.store

    def reading(self) -> AsyncSession:
        return (self.read_sessions or self.sessions)()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        async with AsyncExitStack() as stack:
            if self.write_lock is not None:
                await stack.enter_async_context(self.write_lock)
            yield await stack.enter_async_context(self.sessions())

    async def keys(self, session: AsyncSession | AsyncConnection) -> ProviderKeys:
        """A non-empty key in the settings table wins over the environment, as in legacy."""
        defaults = self.providers.default_keys()

        async def pick(setting: str, default: str) -> str:
            value = await self.settings_cache.get(session, setting)
            return value.strip() if value and value.strip() else default

        return ProviderKeys(
            spotify_client_id=await pick("spotify_client_id", defaults.spotify_client_id),
            spotify_client_secret=await pick("spotify_client_secret", defaults.spotify_client_secret),
            lastfm_api_key=await pick("lastfm_api_key", defaults.lastfm_api_key),
            imvdb_api_key=await pick("imvdb_api_key", defaults.imvdb_api_key),
        )

    async def enrich_artist(self, artist_id: int, *, force_refresh: bool = False) -> EnrichmentResult:
        started = time.monotonic()
        store = self.artist_store()
        async with store.reading() as conn:
            artist = await store.artist(conn, artist_id) if row_id(artist_id) is not None else None
            if artist is None:
                raise ArtistNotFound(f"Artist {artist_id} not found")
            name, last = artist.name, _enrichment_date(artist)
            keys = await self.keys(conn)
            musicbrainz_on = await self.settings_cache.get_bool(conn, "musicbrainz_enabled", True)
        result = EnrichmentResult(success=False, artist_id=artist_id)
        if not force_refresh and last is not None and utcnow() - last < CACHE_DURATION:
            result.success, result.skipped, result.message = True, True, FRESH_MESSAGE
            result.processing_time = round(time.monotonic() - started, 3)
            return result

        hub = self.providers
        spotify, musicbrainz, lastfm, imvdb = await asyncio.gather(
            lookup("spotify", hub.spotify(keys).find_artist(name)),
            lookup("musicbrainz", hub.musicbrainz().find_artist(name) if musicbrainz_on else disabled()),
            lookup("lastfm", hub.lastfm(keys).get_artist_info(name)),
            lookup("imvdb", hub.imvdb(keys).find_artist(name)),
        )
        result.add("spotify", spotify)
        if musicbrainz_on:
            result.add("musicbrainz", musicbrainz)
        else:
            result.providers["musicbrainz"] = {"status": "disabled", "elapsed_ms": 0.0}
        result.add("lastfm", lastfm)
        result.add("imvdb", imvdb)

        # Changes are computed from the row as read above (legacy too works from the state it
        # loaded at the start) and written with one UPDATE: no ORM flush on the hot path.
        async with store.writing() as conn:
            changes = await _artist_changes(store, conn, artist, result, spotify, musicbrainz, lastfm, imvdb)
            if result.sources_used:
                metadata = dict(artist.imvdb_metadata or {})
                if MUSICBRAINZ_ID in changes:
                    metadata["musicbrainz_id"] = changes.pop(MUSICBRAINZ_ID)
                metadata["enrichment_date"] = utcnow().isoformat()
                metadata["enrichment_sources"] = list(result.sources_used)
                written = await store.update_artist(conn, artist_id, {**changes, "imvdb_metadata": metadata})
                if written == 0:
                    raise ArtistNotFound(f"Artist {artist_id} not found")  # deleted meanwhile
                await conn.commit()

        result.confidence_score = result.score()
        result.success = bool(result.sources_used) and result.confidence_score >= MIN_CONFIDENCE
        result.processing_time = round(time.monotonic() - started, 3)
        log.info(
            "enrichment.artist",
            artist_id=artist_id,
            sources=result.sources_used,
            fields=result.enriched_fields,
            errors=len(result.errors),
        )
        return result

    async def refresh_video(self, video_id: int) -> tuple[EnrichmentResult, dict[str, Any]] | None:
        """IMVDb video details + Last.fm track.getinfo merged into the video row; None: no video."""
        started = time.monotonic()
        async with self.reading() as session:
            video = await _video(session, video_id) if row_id(video_id) is not None else None
            if video is None:
                return None
            artist_name = video.artist.name if video.artist else ""
            title, imvdb_id = video.title, video.imvdb_id
            keys = await self.keys(session)
        result = EnrichmentResult(success=False, artist_id=video.artist_id)
        imvdb_client = self.providers.imvdb(keys)

        async def imvdb_lookup() -> ImvdbVideo | None:
            if imvdb_id:
                found = await imvdb_client.get_video(imvdb_id)
                if found:
                    return found
            hit = await imvdb_client.find_video(artist_name, title)
            return await imvdb_client.get_video(hit.id) if hit else None

        imvdb, track = await asyncio.gather(
            lookup("imvdb", imvdb_lookup()),
            lookup("lastfm", self.providers.lastfm(keys).get_track_info(artist_name, title)),
        )
        result.add("imvdb", imvdb)
        result.add("lastfm", track)

        async with self.writing() as session:
            video = await _video(session, video_id)
            if video is None:
                return None
            fields = await _apply_video(session, video, result, imvdb, track)
            if result.sources_used:
                metadata = dict(video.video_metadata or {})
                metadata["metadata_refreshed_at"] = utcnow().isoformat()
                video.video_metadata = metadata
                await session.commit()
            # With no source nothing was changed, so there is nothing to roll back.
            snapshot = _video_snapshot(video)
        result.enriched_fields = fields
        result.confidence_score = result.score()
        result.success = bool(result.sources_used)
        result.processing_time = round(time.monotonic() - started, 3)
        log.info(
            "enrichment.video",
            video_id=video_id,
            sources=result.sources_used,
            fields=fields,
            errors=len(result.errors),
        )
        return result, snapshot


def _enrichment_date(artist: ArtistState) -> datetime | None:
    raw = (artist.imvdb_metadata or {}).get("enrichment_date")
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        return None


def merge_genres(existing: list[str] | None, *groups: list[str]) -> list[str]:
    merged: list[str] = []
    seen: set[str] = set()
    for genre in [*(existing or []), *(g for group in groups for g in group)]:
        name = str(genre).strip().lower()
        if name and name not in seen:
            seen.add(name)
            merged.append(name)
    return merged[:MAX_GENRES]


async def _artist_changes(
    store: EnrichmentStore,
    conn: AsyncConnection,
    artist: ArtistState,
    result: EnrichmentResult,
    spotify: Outcome[Any],
    musicbrainz: Outcome[Any],
    lastfm: Outcome[Any],
    imvdb: Outcome[Any],
) -> dict[str, Any]:
    """The changes legacy would make (attributes, plus `MUSICBRAINZ_ID` for the metadata JSON),
    and `result.enriched_fields` in legacy's order."""
    changes: dict[str, Any] = {}
    fields = result.enriched_fields
    if spotify.data and spotify.data.id and artist.spotify_id != spotify.data.id:
        changes["spotify_id"] = str(spotify.data.id)
        fields.append("spotify_id")
    if lastfm.data and lastfm.data.name and artist.lastfm_name != lastfm.data.name:
        changes["lastfm_name"] = str(lastfm.data.name)
        fields.append("lastfm_name")
    if imvdb.data and imvdb.data.id is not None:
        imvdb_id = str(imvdb.data.id)
        holder = None
        if artist.imvdb_id != imvdb_id:  # the id is unique: if this artist has it, nobody else does
            holder = await store.imvdb_holder(conn, imvdb_id, artist.id)
        if holder is not None:
            result.errors.append(f"imvdb: id {imvdb_id} already belongs to artist {holder}")
        elif artist.imvdb_id != imvdb_id:
            changes["imvdb_id"] = imvdb_id
            fields.append("imvdb_id")
    mb = musicbrainz.data
    if mb and mb.id and (artist.imvdb_metadata or {}).get("musicbrainz_id") != mb.id:
        changes[MUSICBRAINZ_ID] = str(mb.id)
        fields.append("musicbrainz_id")
    genres = merge_genres(
        artist.genres,
        list(spotify.data.genres) if spotify.data else [],
        [t.name for t in mb.tags] if mb else [],
        lastfm.data.tag_names() if lastfm.data else [],
    )
    if genres != (artist.genres or []):
        changes["genres"] = genres
        fields.append("genres")
    return changes


async def _video(session: AsyncSession, video_id: int) -> Video | None:
    video: Video | None = await session.scalar(
        select(Video).options(joinedload(Video.artist)).where(Video.id == video_id)
    )
    return video


async def _apply_video(
    session: AsyncSession,
    video: Video,
    result: EnrichmentResult,
    imvdb_outcome: Outcome[ImvdbVideo],
    track_outcome: Outcome[LastfmTrack],
) -> list[str]:
    fields: list[str] = []

    def put(attr: str, value: Any) -> None:
        if value not in (None, "", []) and getattr(video, attr) != value:
            setattr(video, attr, value)
            fields.append(attr)

    imvdb = imvdb_outcome.data
    if imvdb:
        imvdb_id = str(imvdb.id)
        holder = await session.scalar(
            select(Video.id).where(Video.imvdb_id == imvdb_id, Video.id != video.id).limit(1)
        )
        if holder is not None:
            result.errors.append(f"imvdb: id {imvdb_id} already belongs to video {holder}")
        else:
            put("imvdb_id", imvdb_id)
        put("year", imvdb.year)
        put("thumbnail_url", (imvdb.image or {}).get("l"))
        put("directors", [d.entity_name for d in imvdb.directors if d.entity_name])
        youtube = next((s for s in imvdb.sources if s.source == "youtube"), None)
        if youtube and not video.youtube_id:
            put("youtube_id", youtube.source_data)
            put("youtube_url", f"https://www.youtube.com/watch?v={youtube.source_data}")
        put("imvdb_metadata", {**(video.imvdb_metadata or {}), **imvdb.raw()})
    track = track_outcome.data
    if track:
        try:
            duration_ms = int(track.duration or 0)
        except (TypeError, ValueError):
            duration_ms = 0
        if duration_ms and not video.duration:
            put("duration", duration_ms // 1000)
        put("genres", merge_genres(video.genres, track.tag_names()))
        lastfm_meta = {
            "lastfm_url": track.url,
            "lastfm_listeners": track.listeners,
            "lastfm_playcount": track.playcount,
        }
        put("video_metadata", {**(video.video_metadata or {}), **lastfm_meta})
    return fields


def _video_snapshot(video: Video) -> dict[str, Any]:
    return {
        "id": video.id,
        "title": video.title,
        "imvdb_id": video.imvdb_id,
        "year": as_read(video.year),
        "duration": as_read(video.duration),
        "genres": video.genres or [],
        "directors": video.directors or [],
        "youtube_id": video.youtube_id,
        "thumbnail_url": video.thumbnail_url,
    }
