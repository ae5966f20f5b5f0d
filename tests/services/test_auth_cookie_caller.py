"""The cookie's caller, read in one prepared statement, follows `find_valid_session`'s rule and
leaves the user in the session as a loaded one (services/auth/cookie_caller.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from legacy_flask.seed import seed
from services.auth.cookie_caller import find_cookie_caller
from services.auth.service import find_valid_session
from services.db import create_engine as create_async_engine
from services.db import create_sessionmaker, driver_statements
from services.models import User, UserRole
from services.settings import Settings
from tests.support.databases import async_url

ADMIN = 1


def _session_row(
    url: str, token: str, *, user_id: int = ADMIN, status: str = "ACTIVE", expires: str = "2099-01-01"
) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO user_sessions (user_id, session_token, status, created_at, last_activity,"
                    " expires_at) VALUES (:user_id, :token, :status, :now, :now, :expires)"
                ),
                {
                    "user_id": user_id,
                    "token": token,
                    "status": status,
                    "now": datetime(2025, 1, 1),
                    "expires": expires,
                },
            )
    finally:
        engine.dispose()


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        seed(engine, scale=0.02)
    finally:
        engine.dispose()
    _session_row(database_url, "live-token")
    _session_row(database_url, "revoked-token", status="REVOKED")
    _session_row(database_url, "expired-token", expires="2001-01-01")
    _session_row(database_url, "readonly-token", user_id=4)
    settings = Settings(database_url=async_url(database_url))
    async_engine = create_async_engine(settings, autocommit=not settings.is_sqlite)
    try:
        yield create_sessionmaker(async_engine, driver=driver_statements(settings, traced=False))
    finally:
        await async_engine.dispose()


async def test_a_live_cookie_names_its_session_and_a_loaded_user(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        caller = await find_cookie_caller(session, user_id=ADMIN, token="live-token")
        expected = await find_valid_session(session, user_id=ADMIN, token="live-token")
        assert caller is not None and expected is not None
        assert (caller.session_id, caller.session_token) == (expected.id, expected.session_token)
        user = caller.user
        assert user is expected.user  # one identity: the ORM query returned the same instance
        assert inspect(user).persistent and not session.is_modified(user)
        assert user.role is UserRole.ADMIN and user.username == "admin"


async def test_the_user_built_from_the_row_is_persistent_unmodified_and_never_written(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        before = (await session.execute(select(User.__table__).where(User.__table__.c.id == ADMIN))).one()
    async with sessions() as session, session.begin():
        caller = await find_cookie_caller(session, user_id=ADMIN, token="live-token")
        assert caller is not None
        user = caller.user
        assert inspect(user).persistent and user in session and not session.dirty
        assert tuple(getattr(user, c.key) for c in User.__table__.c) == tuple(before)
        assert await session.get(User, ADMIN) is user  # the identity map holds it
    async with sessions() as session:
        after = (await session.execute(select(User.__table__).where(User.__table__.c.id == ADMIN))).one()
    assert after == before  # the commit flushed nothing back


async def test_a_user_already_loaded_is_the_one_returned(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        loaded = await session.get(User, ADMIN)
        caller = await find_cookie_caller(session, user_id=ADMIN, token="live-token")
    assert caller is not None and caller.user is loaded


@pytest.mark.parametrize(
    ("user_id", "token"),
    [
        (ADMIN, "revoked-token"),
        (ADMIN, "expired-token"),
        (ADMIN, "no-such-token"),
        (2, "live-token"),  # another user's cookie naming this token
        (ADMIN, ""),
        (ADMIN, None),
        (True, "live-token"),  # a bool is no user id, as in find_valid_session
        ("1", "live-token"),
    ],
)
async def test_what_find_valid_session_refuses_names_no_caller(
    sessions: async_sessionmaker[AsyncSession], user_id: object, token: object
) -> None:
    async with sessions() as session:
        assert await find_valid_session(session, user_id=user_id, token=token) is None
        assert await find_cookie_caller(session, user_id=user_id, token=token) is None


async def test_an_inactive_user_is_no_caller(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE users SET is_active = 0 WHERE id = 4"))
    finally:
        engine.dispose()
    async with sessions() as session:
        assert await find_valid_session(session, user_id=4, token="readonly-token") is None
        assert await find_cookie_caller(session, user_id=4, token="readonly-token") is None
