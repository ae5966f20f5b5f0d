"""The cached `video_count` / `total_duration` of playlists (legacy's `refresh_playlist_stats`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Playlist, PlaylistEntry, Video, utcnow


async def refresh_playlist_stats(session: AsyncSession, playlist_ids: Iterable[int]) -> None:
    for playlist_id in set(playlist_ids):
        count, duration = (
            await session.execute(
                select(func.count(PlaylistEntry.id), func.coalesce(func.sum(Video.duration), 0))
                .select_from(PlaylistEntry)
                .outerjoin(Video, PlaylistEntry.video_id == Video.id)
                .where(PlaylistEntry.playlist_id == playlist_id)
            )
        ).one()
        await session.execute(
            update(Playlist)
            .where(Playlist.id == playlist_id)
            .values(video_count=int(count), total_duration=int(duration or 0), updated_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
