"""The caller named by a legacy session cookie, in one prepared statement.

Every request carrying legacy's `mvidarr_session` cookie resolves it: the write mix's status
and setting PUTs do nothing else as often. `find_valid_session` (services/auth/service.py)
answers with the ORM: a `UserSession` joined to its `User`, both hydrated, which cost a fifth
of a status PUT's CPU on MariaDB (py-spy, bench/results/issue-17.md). The credential resolver
needs less: the session row's id and token, and the user, so here one `Prepared` statement
(services/_driver.py) reads the session columns the rule checks and the user's columns, with
the same rule: the row for this token, of the cookie's user, ACTIVE, unexpired, of an active
user.

The user is then put in the session as the ORM query would have left it: the instance already
in the identity map when there is one (as a query returns it), otherwise one built from the
row's values (the columns' own result processors ran: the role is a `UserRole`, JSON is
decoded) and attached as persistent and unmodified (`make_transient_to_detached`), so a route
that goes on to use `principal.user` with the session (an API key's owner, an audit line)
works on it exactly as on a loaded one, and no flush ever writes it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from services._driver import Prepared
from services.models import SessionStatus, User, UserSession, utcnow

_USERS = cast(Table, User.__table__)
_SESSIONS = cast(Table, UserSession.__table__)
_USER_KEYS = tuple(column.key for column in _USERS.c)
_CALLER = Prepared(
    select(
        _SESSIONS.c.id,
        _SESSIONS.c.session_token,
        _SESSIONS.c.user_id,
        _SESSIONS.c.status,
        _SESSIONS.c.expires_at,
        *_USERS.c,
    )
    .join_from(_SESSIONS, _USERS, _SESSIONS.c.user_id == _USERS.c.id)
    .where(_SESSIONS.c.session_token == bindparam("token"))
)


@dataclass(frozen=True, slots=True)
class CookieCaller:
    session_id: int
    session_token: str  # as stored (the collation may match a cookie's token that differs in case)
    user: User


async def find_cookie_caller(session: AsyncSession, *, user_id: object, token: object) -> CookieCaller | None:
    """`find_valid_session`'s rule, answered with what the credential resolver needs."""
    if not isinstance(token, str) or not token or not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    row = await _CALLER.first(session, {"token": token})
    if row is None:
        return None
    session_id, stored_token, owner, status, expires_at, *user_values = row
    if owner != user_id or status != SessionStatus.ACTIVE or expires_at <= utcnow():
        return None
    user = _attached_user(session, dict(zip(_USER_KEYS, user_values, strict=True)))
    if not user.is_active:
        return None
    return CookieCaller(session_id, stored_token, user)


def _attached_user(session: AsyncSession, values: dict[str, Any]) -> User:
    sync = session.sync_session
    present = sync.identity_map.get(sync.identity_key(User, values["id"]))
    if present is not None:
        return cast(User, present)
    user = User(**values)
    make_transient_to_detached(user)  # persistent identity, no pending changes
    sync.add(user)
    return user
