"""A small async repository base: get, list (filters, sort, paging), count, create, update, delete.

Per-resource repositories subclass it and add their own queries with `select()`. Methods are
keyword-only and named by verb. They flush, never commit: the transaction belongs to the
request (`services.db.SessionDep`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, Label, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Base

ModelT = TypeVar("ModelT", bound=Base)


class Repository(Generic[ModelT]):
    model: ClassVar[type[Base]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def select(self) -> Select[Any]:
        return select(self.model)

    async def get(self, *, id: Any) -> ModelT | None:
        obj = await self.session.get(self.model, id)
        return obj  # type: ignore[return-value]

    async def list(
        self,
        *,
        filters: Iterable[ColumnElement[bool]] = (),
        order_by: Sequence[Any] = (),
        offset: int | None = None,
        limit: int | None = None,
    ) -> Sequence[ModelT]:
        stmt = self.select().where(*filters).order_by(*order_by)
        if offset:
            stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        rows: Sequence[ModelT] = (await self.session.scalars(stmt)).all()
        return rows

    async def count(self, *, filters: Iterable[ColumnElement[bool]] = ()) -> int:
        stmt = select(func.count()).select_from(self.model).where(*filters)
        return int(await self.session.scalar(stmt) or 0)

    async def create(self, **values: Any) -> ModelT:
        obj: ModelT = self.model(**values)  # type: ignore[assignment]
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def update(self, obj: ModelT, **values: Any) -> ModelT:
        for name, value in values.items():
            setattr(obj, name, value)
        await self.session.flush()
        return obj

    async def delete(self, obj: ModelT) -> None:
        await self.session.delete(obj)
        await self.session.flush()


async def count_rows(session: AsyncSession, stmt: Select[*tuple[Any, ...]]) -> int:
    """`SELECT count(*) FROM (<stmt without ORDER BY>)`, as legacy's `Query.count()` does."""
    sub = stmt.order_by(None).subquery()
    return int(await session.scalar(select(func.count()).select_from(sub)) or 0)


TOTAL_ROWS = "total_rows"


def total_column(model: type[Base], filters: Iterable[ColumnElement[bool]] = ()) -> Label[int]:
    """How many rows of `model` match `filters`, as a column of the page query itself.

    An uncorrelated scalar subquery: SQLite and MariaDB evaluate it once per statement, so the
    page and its total cost one round trip instead of legacy's count() plus the page.
    """
    count = select(func.count()).select_from(model).where(*filters).correlate(None)
    return count.scalar_subquery().label(TOTAL_ROWS)
