from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Row, delete, func, or_, select, update
from sqlalchemy.orm import aliased

from services._bounds import window
from services.models import Artist, Playlist, PlaylistEntry, User, UserRole, Video
from services.repository import Repository

PRIVILEGED = (UserRole.ADMIN, UserRole.MANAGER)


def can_access(playlist: Playlist, user: User) -> bool:
    return playlist.user_id == user.id or playlist.is_public or user.role in PRIVILEGED


def can_modify(playlist: Playlist, user: User) -> bool:
    return playlist.user_id == user.id or user.role in PRIVILEGED


class PlaylistRepository(Repository[Playlist]):
    model = Playlist

    def visible_to(self, user: User) -> ColumnElement[bool]:
        visible = [Playlist.user_id == user.id, Playlist.is_public.is_(True)]
        if user.role == UserRole.ADMIN:
            visible.append(Playlist.is_featured.is_(True))
        return or_(*visible)

    async def page_with_owner(
        self, *, user: User, page: int, per_page: int
    ) -> Sequence[Row[Playlist, str | None]]:
        limit, offset = window(limit=per_page, offset=(page - 1) * per_page, names=("per_page", "page"))
        stmt = (
            select(Playlist, User.username)
            .outerjoin(User, Playlist.user_id == User.id)
            .where(self.visible_to(user))
            .order_by(Playlist.updated_at.desc(), Playlist.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return (await self.session.execute(stmt)).all()

    async def owner_name(self, *, user_id: int) -> str | None:
        name: str | None = await self.session.scalar(select(User.username).where(User.id == user_id))
        return name

    async def entries(self, *, playlist_id: int) -> Sequence[Row[PlaylistEntry, Video, str, str]]:
        """Entries in position order with their video, artist name and adder: one query."""
        adder = aliased(User)
        stmt = (
            select(PlaylistEntry, Video, Artist.name.label("artist_name"), adder.username)
            .outerjoin(Video, PlaylistEntry.video_id == Video.id)
            .outerjoin(Artist, Video.artist_id == Artist.id)
            .outerjoin(adder, PlaylistEntry.added_by == adder.id)
            .where(PlaylistEntry.playlist_id == playlist_id)
            .order_by(PlaylistEntry.position, PlaylistEntry.id)
        )
        return (await self.session.execute(stmt)).all()

    async def name_taken(self, *, user_id: int, name: str, exclude_id: int | None = None) -> bool:
        stmt = select(Playlist.id).where(Playlist.user_id == user_id, Playlist.name == name)
        if exclude_id is not None:
            stmt = stmt.where(Playlist.id != exclude_id)
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def delete_with_entries(self, playlist: Playlist) -> None:
        await self.session.execute(delete(PlaylistEntry).where(PlaylistEntry.playlist_id == playlist.id))
        await self.session.delete(playlist)
        await self.session.flush()

    async def entry_count(self, *, playlist_id: int) -> int:
        stmt = select(func.count(PlaylistEntry.id)).where(PlaylistEntry.playlist_id == playlist_id)
        return int(await self.session.scalar(stmt) or 0)

    async def existing_video_ids(self, *, video_ids: list[int]) -> set[int]:
        return set(await self.session.scalars(select(Video.id).where(Video.id.in_(video_ids))))

    async def video_ids_in(self, *, playlist_id: int) -> set[int]:
        stmt = select(PlaylistEntry.video_id).where(PlaylistEntry.playlist_id == playlist_id)
        return set(await self.session.scalars(stmt))

    async def last_position(self, *, playlist_id: int) -> int:
        stmt = select(func.coalesce(func.max(PlaylistEntry.position), -1)).where(
            PlaylistEntry.playlist_id == playlist_id
        )
        return int(await self.session.scalar(stmt) or 0)

    async def get_entry(self, *, playlist_id: int, entry_id: int) -> PlaylistEntry | None:
        entry: PlaylistEntry | None = await self.session.scalar(
            select(PlaylistEntry).where(
                PlaylistEntry.id == entry_id, PlaylistEntry.playlist_id == playlist_id
            )
        )
        return entry

    async def close_gap(self, *, playlist_id: int, after: int) -> None:
        await self.session.execute(
            update(PlaylistEntry)
            .where(PlaylistEntry.playlist_id == playlist_id, PlaylistEntry.position > after)
            .values(position=PlaylistEntry.position - 1)
            .execution_options(synchronize_session=False)
        )

    async def entries_by_id(self, *, playlist_id: int, entry_ids: list[int]) -> Sequence[PlaylistEntry]:
        stmt = select(PlaylistEntry).where(
            PlaylistEntry.playlist_id == playlist_id, PlaylistEntry.id.in_(entry_ids)
        )
        return (await self.session.scalars(stmt)).all()
