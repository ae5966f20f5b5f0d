from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Row, Select, asc, bindparam, delete, desc, func, or_, select

from services._bounds import window
from services._driver import Prepared
from services.models import Artist, Download, PlaylistEntry, Video
from services.repository import TOTAL_ROWS, Repository, count_rows, total_column

LIST_COLUMNS = (
    Artist.id,
    Artist.name,
    Artist.imvdb_id,
    Artist.thumbnail_url,
    Artist.thumbnail_path,
    Artist.auto_download,
    Artist.keywords,
    Artist.monitored,
    Artist.created_at,
    Artist.folder_path,
    Artist.imvdb_metadata,
)


def video_count_column() -> Any:
    """Each artist's video count as a correlated scalar subquery over `idx_video_artist_id`.

    One statement (no N+1 round trips); the database counts only the rows it returns, and
    only when sorting or filtering by the count does it count for every artist.
    """
    return (
        select(func.count(Video.id)).where(Video.artist_id == Artist.id).correlate(Artist).scalar_subquery()
    )


_ARTISTS, _VIDEOS = Artist.__table__, Video.__table__


@functools.cache
def list_statement(sort: str, descending: bool) -> Prepared:
    """The unfiltered list page for one sort, built once per process as a Core statement (no
    ORM layers; SQLAlchemy memoizes a statement object's cache key): the artists, each one's
    video count, and how many artists there are. `offset` and `limit` are bound parameters."""
    count = (
        select(func.count(_VIDEOS.c.id))
        .where(_VIDEOS.c.artist_id == _ARTISTS.c.id)
        .correlate(_ARTISTS)
        .scalar_subquery()
    )
    columns: dict[str, Any] = {
        "name": _ARTISTS.c.name,
        "created_at": _ARTISTS.c.created_at,
        "updated_at": _ARTISTS.c.updated_at,
        "video_count": count,
    }
    column = columns.get(sort, _ARTISTS.c.name)
    total = select(func.count()).select_from(_ARTISTS).scalar_subquery().label(TOTAL_ROWS)
    return Prepared(
        select(*(_ARTISTS.c[c.key] for c in LIST_COLUMNS), count.label("video_count"), total)
        .order_by(desc(column) if descending else asc(column), asc(_ARTISTS.c.id))
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


class ArtistRepository(Repository[Artist]):
    model = Artist

    async def page(
        self,
        *,
        filters: Sequence[ColumnElement[bool]],
        count_filters: Sequence[ColumnElement[bool]],
        video_count: Any,
        sort: str,
        order: str,
        page: int,
        per_page: int,
    ) -> tuple[Sequence[Row[*tuple[Any, ...]]], int]:
        # A per_page or page between 2**63 and 2**64 selects the rows MariaDB's unsigned LIMIT
        # selects (clamped), on both paths; past 2**64 it is refused (services/_bounds.py).
        limit, offset = window(limit=per_page, offset=(page - 1) * per_page, names=("per_page", "page"))
        if not filters and not count_filters:
            fixed = list_statement(sort, order.lower() == "desc")
            params = {"offset": offset, "limit": limit}
            page_rows = await fixed.all(self.session, params)
            return page_rows, int(page_rows[0][-1]) if page_rows else await self.count()
        stmt: Select[*tuple[Any, ...]] = select(*LIST_COLUMNS, video_count.label("video_count")).where(
            *filters
        )
        total: int | None = None
        if count_filters:
            total = await count_rows(self.session, stmt.where(*count_filters))
            stmt = stmt.where(*count_filters)
        else:  # no filter on the count: the artists table alone says how many, in the same query
            stmt = stmt.add_columns(total_column(Artist, filters))
        columns: dict[str, Any] = {
            "name": Artist.name,
            "created_at": Artist.created_at,
            "updated_at": Artist.updated_at,
            "video_count": video_count,
        }
        direction = desc if order.lower() == "desc" else asc
        stmt = stmt.order_by(direction(columns.get(sort, Artist.name)), asc(Artist.id))
        stmt = stmt.offset(offset).limit(limit)
        rows = (await self.session.execute(stmt)).all()
        if total is None:  # a page past the end has no row to carry the total
            total = int(rows[0].total_rows) if rows else await self.count(filters=filters)
        return rows, total

    async def video_count(self, *, artist_id: int) -> int:
        count = await self.session.scalar(select(func.count(Video.id)).where(Video.artist_id == artist_id))
        return int(count or 0)

    async def name_taken(self, *, name: str, exclude_id: int | None = None) -> bool:
        stmt = select(Artist.id).where(func.lower(Artist.name) == name.lower())
        if exclude_id is not None:
            stmt = stmt.where(Artist.id != exclude_id)
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def imvdb_id_taken(self, *, imvdb_id: str, exclude_id: int | None = None) -> bool:
        stmt = select(Artist.id).where(Artist.imvdb_id == imvdb_id)
        if exclude_id is not None:
            stmt = stmt.where(Artist.id != exclude_id)
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def dependents(self, *, artist_id: int) -> tuple[list[int], int]:
        video_ids = list(await self.session.scalars(select(Video.id).where(Video.artist_id == artist_id)))
        download_count = await self.session.scalar(
            select(func.count(Download.id)).where(_downloads_of(artist_id, video_ids))
        )
        return video_ids, int(download_count or 0)

    async def delete_cascade(self, artist: Artist, *, video_ids: list[int]) -> list[int]:
        """Delete the artist with its videos, their playlist entries and the downloads."""
        playlist_ids: list[int] = []
        if video_ids:
            playlist_ids = list(
                await self.session.scalars(
                    select(PlaylistEntry.playlist_id).where(PlaylistEntry.video_id.in_(video_ids)).distinct()
                )
            )
            await self.session.execute(delete(PlaylistEntry).where(PlaylistEntry.video_id.in_(video_ids)))
        await self.session.execute(delete(Download).where(_downloads_of(artist.id, video_ids)))
        await self.session.execute(delete(Video).where(Video.artist_id == artist.id))
        await self.session.delete(artist)
        await self.session.flush()
        return playlist_ids


def _downloads_of(artist_id: int, video_ids: list[int]) -> ColumnElement[bool]:
    return or_(Download.artist_id == artist_id, Download.video_id.in_(video_ids or [-1]))
