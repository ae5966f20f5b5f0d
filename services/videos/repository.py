from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    Table,
    asc,
    bindparam,
    delete,
    desc,
    func,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute

from services._driver import Prepared
from services.models import Artist, Download, PlaylistEntry, Video, VideoBlacklist, VideoStatus, utcnow
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


_VIDEOS, _ARTISTS = cast(Table, Video.__table__), cast(Table, Artist.__table__)
# The same columns as Core table columns: a Core statement skips the ORM's compile and loading
# layers, and a statement object built once keeps its cache key (SQLAlchemy memoizes it).
_CORE_LIST_COLUMNS = tuple(_VIDEOS.c[column.key] for column in LIST_COLUMNS)
_CORE_SORT_COLUMNS = {
    name: (_ARTISTS.c.name if name == "artist_name" else _VIDEOS.c[column.key])
    for name, column in SORT_COLUMNS.items()
}


@functools.cache
def list_statement(sort: str, descending: bool, limited: bool, offset: bool) -> Prepared:
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
    return Prepared(stmt)


VIDEO_COLUMNS, ARTIST_COLUMNS = _VIDEOS.c, _ARTISTS.c
_LIST_FROM = _VIDEOS.outerjoin(_ARTISTS, _VIDEOS.c.artist_id == _ARTISTS.c.id)
_DETAIL = Prepared(
    select(*_CORE_LIST_COLUMNS, _VIDEOS.c.genres, _ARTISTS.c.name.label("artist_name"))
    .select_from(_LIST_FROM)
    .where(_VIDEOS.c.id == bindparam("video_id"))
)
# The status PUT's statements, straight on the driver on MariaDB (services/_driver.py).
_STATUS_OF = Prepared(select(_VIDEOS.c.status).where(_VIDEOS.c.id == bindparam("video_id")))
# `updated_at` is bound by the caller: the column's onupdate (utcnow), as the ORM's flush applied it.
_SET_STATUS = Prepared(
    update(_VIDEOS)
    .where(_VIDEOS.c.id == bindparam("b_id"))
    .values(status=bindparam("status"), updated_at=bindparam("updated_at"))
)


def _ids_first(
    stmt: Select[Any], ordering: tuple[Any, ...], *, offset: int, limit: int | None
) -> Select[Any]:
    """`stmt`'s page with its window count, with the scan, window and sort on ids alone.

    MariaDB materialises every row that reaches a window function with all its selected
    columns: the search read the JSON and text columns of all 5,000 videos to keep 100
    (ANALYZE: 46 ms of its 52 ms in the scan of videos). Here a derived table scans, counts,
    sorts and pages (id, count) pairs, and only the page's rows are read wide, by primary key,
    then put back in the same order (the order ends in the unique id, so it is total). One
    statement, one round trip, the same rows (bench/results/issue-17.md: 33 -> 13 ms per query).
    """
    ids = stmt.with_only_columns(_VIDEOS.c.id.label("page_id"), func.count().over().label(TOTAL_ROWS))
    ids = ids.order_by(*ordering)
    if offset:
        ids = ids.offset(offset)
    if limit is not None:
        ids = ids.limit(max(limit, 0))
    page = ids.subquery("page")
    return (
        select(*stmt.selected_columns, page.c.total_rows)
        .select_from(page)
        .join(_VIDEOS, _VIDEOS.c.id == page.c.page_id)
        .outerjoin(_ARTISTS, _VIDEOS.c.artist_id == _ARTISTS.c.id)
        .order_by(*ordering)
    )


class VideoRepository(Repository[Video]):
    model = Video

    def rows(self, *, genres: bool = False) -> Select[Any]:
        """The answers' columns of videos with their artist's name, as a Core statement: Core
        table columns (filter with `VIDEO_COLUMNS` / `ARTIST_COLUMNS` to keep it Core) skip the
        ORM's compile and row-loading layers, a sixth of the search's CPU."""
        columns = (*_CORE_LIST_COLUMNS, _VIDEOS.c.genres) if genres else _CORE_LIST_COLUMNS
        return select(*columns, _ARTISTS.c.name.label("artist_name")).select_from(_LIST_FROM)

    async def detail_row(self, *, video_id: int) -> Row[Any] | None:
        """One video as `rows(genres=True)` reads it, or None."""
        row = await _DETAIL.first(self.session, {"video_id": video_id})
        return cast("Row[Any] | None", row)

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
        column = _CORE_SORT_COLUMNS.get(sort or "title", _VIDEOS.c.title)
        direction = desc if (order or "asc").lower() == "desc" else asc
        ordering = (direction(column), asc(_VIDEOS.c.id))
        page = stmt.order_by(*ordering)
        if offset:
            page = page.offset(offset)
        if limit is not None:
            page = page.limit(max(limit, 0))
        if filters:
            # A filtered search scans the table once: the total rides along as a window count
            # (computed before LIMIT) instead of a second scan for legacy's separate count().
            if self.session.get_bind().dialect.name == "mysql":
                windowed = _ids_first(stmt, ordering, offset=offset, limit=limit)
            else:
                windowed = page.add_columns(func.count().over().label(TOTAL_ROWS))
            rows = (await self.session.execute(windowed)).all()
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
        rows = await stmt.all(self.session, params)
        if rows:
            return rows, int(rows[0][-1])
        return [], await self.count()

    async def status_of(self, *, video_id: int) -> Row[Any] | None:
        """The video's `(status,)` row, or None when there is no such video."""
        row: Row[Any] | None = await _STATUS_OF.first(self.session, {"video_id": video_id})
        return row

    async def set_status(self, *, video_id: int, status: VideoStatus) -> None:
        await _SET_STATUS.write(self.session, {"b_id": video_id, "status": status, "updated_at": utcnow()})

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
