from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Row, Select, asc, bindparam, delete, desc, func, select
from sqlalchemy.orm import InstrumentedAttribute

from services.models import Artist, Download, PlaylistEntry, Video, VideoBlacklist
from services.repository import TOTAL_ROWS, Repository, count_rows, total_column

SORT_COLUMNS: dict[str, Any] = {
    "title": Video.title,
    "artist_name": Artist.name,
    "year": Video.year,
    "created_at": Video.created_at,
    "status": Video.status,
    "duration": Video.duration,
}
# Only the columns the answers show: no ORM identity map, no JSON we do not send.
LIST_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Video.id,
    Video.title,
    Video.artist_id,
    Video.status,
    Video.imvdb_id,
    Video.youtube_url,
    Video.url,
    Video.local_path,
    Video.thumbnail_url,
    Video.duration,
    Video.quality,
    Video.year,
    Video.video_metadata,
    Video.created_at,
)


_VIDEOS, _ARTISTS = Video.__table__, Artist.__table__
# The same columns as Core table columns: a Core statement skips the ORM's compile and loading
# layers, and a statement object built once keeps its cache key (SQLAlchemy memoizes it).
_CORE_LIST_COLUMNS = tuple(_VIDEOS.c[column.key] for column in LIST_COLUMNS)
_CORE_SORT_COLUMNS = {
    name: (_ARTISTS.c.name if name == "artist_name" else _VIDEOS.c[column.key])
    for name, column in SORT_COLUMNS.items()
}


@functools.cache
def list_statement(sort: str, descending: bool, limited: bool, offset: bool) -> Select[Any]:
    """The unfiltered list page for one sort, built once per process: the videos with their
    artist's name and, as the last column, how many videos there are (`total_column`).
    `limit` and `offset` are bound parameters, so every page shares the statement."""
    column = _CORE_SORT_COLUMNS.get(sort, _VIDEOS.c.title)
    total = select(func.count()).select_from(_VIDEOS).scalar_subquery().label(TOTAL_ROWS)
    stmt = (
        select(*_CORE_LIST_COLUMNS, _ARTISTS.c.name.label("artist_name"), total)
        .select_from(_VIDEOS.outerjoin(_ARTISTS, _VIDEOS.c.artist_id == _ARTISTS.c.id))
        .order_by(desc(column) if descending else asc(column), asc(_VIDEOS.c.id))
    )
    if offset:
        stmt = stmt.offset(bindparam("offset", type_=Integer))
    if limited:
        stmt = stmt.limit(bindparam("limit", type_=Integer))
    return stmt


class VideoRepository(Repository[Video]):
    model = Video

    def rows(self, *, genres: bool = False) -> Select[Any]:
        columns = (*LIST_COLUMNS, Video.genres) if genres else LIST_COLUMNS
        return select(*columns, Artist.name.label("artist_name")).outerjoin(
            Artist, Video.artist_id == Artist.id
        )

    async def page(
        self,
        *,
        stmt: Select[Any],
        filters: Sequence[ColumnElement[bool]] = (),
        needs_artist: bool,
        sort: str | None,
        order: str | None,
        limit: int | None,
        offset: int,
    ) -> tuple[Sequence[Row[Any]], int]:
        """One page of rows and the total before paging (legacy's `_page`)."""
        stmt = stmt.where(*filters)
        column = SORT_COLUMNS.get(sort or "title", Video.title)
        direction = desc if (order or "asc").lower() == "desc" else asc
        page = stmt.order_by(direction(column), asc(Video.id))
        if offset:
            page = page.offset(offset)
        if limit is not None:
            page = page.limit(max(limit, 0))
        if filters:
            # A filtered search scans the table once: the total rides along as a window count
            # (computed before LIMIT) instead of a second scan for legacy's separate count().
            rows = (await self.session.execute(page.add_columns(func.count().over().label(TOTAL_ROWS)))).all()
            if rows:
                return rows, int(rows[0].total_rows)
            if not offset and (limit is None or limit > 0):
                return rows, 0
        else:  # the outer join to artists (by primary key) never changes the count
            rows = (await self.session.execute(page.add_columns(total_column(Video)))).all()
            if rows:
                return rows, int(rows[0].total_rows)
        # An empty page (offset past the end, or limit 0) still reports the total.
        if needs_artist:
            return [], await count_rows(self.session, stmt)
        return [], await self.count(filters=filters)

    async def list_page(
        self, *, sort: str | None, order: str | None, limit: int | None, offset: int
    ) -> tuple[Sequence[Row[Any]], int]:
        """`page()` without filters, from a statement built once (`list_statement`)."""
        key = sort or "title"
        stmt = list_statement(
            key if key in SORT_COLUMNS else "title",
            (order or "asc").lower() == "desc",
            limit is not None,
            bool(offset),
        )
        params = {"limit": max(limit, 0) if limit is not None else None, "offset": offset}
        rows = (await self.session.execute(stmt, params)).all()
        if rows:
            return rows, int(rows[0][-1])
        return [], await self.count()

    async def artist_name(self, *, artist_id: int) -> str | None:
        name: str | None = await self.session.scalar(select(Artist.name).where(Artist.id == artist_id))
        return name

    async def imvdb_id_taken(self, *, imvdb_id: str, exclude_id: int | None = None) -> bool:
        stmt = select(Video.id).where(Video.imvdb_id == imvdb_id)
        if exclude_id is not None:
            stmt = stmt.where(Video.id != exclude_id)
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def delete_with_dependents(self, video: Video) -> tuple[list[int], int, int]:
        """Remove the video's playlist entries and downloads; returns (playlist ids, counts)."""
        playlist_ids = list(
            await self.session.scalars(
                select(PlaylistEntry.playlist_id).where(PlaylistEntry.video_id == video.id).distinct()
            )
        )
        entries = await self.session.execute(delete(PlaylistEntry).where(PlaylistEntry.video_id == video.id))
        downloads = await self.session.execute(delete(Download).where(Download.video_id == video.id))
        return playlist_ids, _rowcount(entries), _rowcount(downloads)

    async def blacklist(self, *, url: str, title: str, artist_name: str | None, user_id: int | None) -> None:
        await self.session.merge(
            VideoBlacklist(youtube_url=url, title=title, artist_name=artist_name, blacklisted_by=user_id)
        )


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
