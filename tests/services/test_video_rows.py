"""List rows are turned into legacy's video dicts by position; the layout must match the query."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from services.models import Video
from services.repository import total_column
from services.videos.repository import VideoRepository
from services.videos.router import video_dict, video_dicts
from tests.services._resource_support import seeded_sqlite

__all__ = ["seeded_sqlite"]


@pytest.mark.parametrize("genres", [False, True])
def test_positional_video_dicts_equal_the_attribute_ones(seeded_sqlite: str, genres: bool) -> None:
    engine = create_engine(seeded_sqlite)
    try:
        with Session(engine) as session:
            stmt = VideoRepository(session).rows(genres=genres)  # type: ignore[arg-type]
            rows = session.execute(stmt.add_columns(total_column(Video)).limit(20)).all()
    finally:
        engine.dispose()
    assert rows
    assert video_dicts(rows, genres=genres) == [video_dict(row, genres=genres) for row in rows]
    assert all(d["artist_name"] for d in video_dicts(rows, genres=genres))
