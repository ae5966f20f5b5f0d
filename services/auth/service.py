"""Auth operations over the database, shared by the legacy-contract and the new endpoints.

Functions are keyword-only and named by verb. They flush but never commit: the request's
`SessionDep` transaction commits when the handler returns. Handlers that must keep a write
made on a refusal (a failed-login count, a revoked family) *return* their error response
instead of raising, so the transaction still commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import contains_eager

from services.auth.models import ApiKey, RefreshToken
from services.auth.passwords import verify_password
from services.auth.tokens import digest, new_api_key, new_secret
from services.models import ROLE_LEVEL, SessionStatus, User, UserRole, UserSession, utcnow

# Exactly legacy's numbers and messages (legacy_flask/auth/service.py, models.User).
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 30
INVALID_CREDENTIALS = "Invalid username or password"
ACCOUNT_LOCKED = "Account is locked due to too many failed login attempts. Try again later."
ACCOUNT_DISABLED = "Account is disabled"


class AuthError(Exception):
    """A login refused for a reason the client may see (legacy's message)."""

    def __init__(self, message: str, *, reason: str, user: User | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.user = user


def is_locked(user: User, now: datetime | None = None) -> bool:
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def lower_role(a: UserRole, b: UserRole) -> UserRole:
    return a if ROLE_LEVEL[a] <= ROLE_LEVEL[b] else b


async def find_login_user(session: AsyncSession, *, username: str) -> User | None:
    """The account a login names (username or email, as legacy looks it up; the column's collation
    decides case and accents, so on MariaDB `ADMIN` and `admín` name `admin`)."""
    return await session.scalar(
        select(User).where(or_(User.username == username, User.email == username)).limit(1)
    )


async def _reserve_attempt(factory: async_sessionmaker[AsyncSession], user_id: int) -> int:
    """Count one more failed attempt *before* the password is checked, in its own committed
    transaction, and return the count including it: of N concurrent attempts, exactly one sees
    each number, so a burst checks at most MAX_FAILED_LOGINS passwords (legacy counts after the
    check, so a burst checks them all)."""
    now = utcnow()
    async with factory() as reserve, reserve.begin():
        # An expired lock starts a fresh count (legacy's rule), atomically for every racer.
        await reserve.execute(
            update(User)
            .where(User.id == user_id, User.locked_until.is_not(None), User.locked_until <= now)
            .values(failed_login_attempts=0, locked_until=None)
        )
        await reserve.execute(
            update(User)
            .where(User.id == user_id)
            .values(failed_login_attempts=User.failed_login_attempts + 1)
        )
        count = await reserve.scalar(select(User.failed_login_attempts).where(User.id == user_id))
    return int(count or 0)


async def authenticate(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    ip: str | None,
    factory: async_sessionmaker[AsyncSession],
) -> User:
    """Legacy's login rule, raced safely: five failures lock the account for thirty minutes.

    Observable answers are legacy's, with one deliberate difference: a disabled account is
    named only to the caller who knows its password (legacy says "Account is disabled" to any
    password, which tells an attacker the account exists).
    """
    user = await find_login_user(session, username=username)
    if user is None:
        await verify_password(None, password)  # same cost as a real check: no user enumeration by time
        raise AuthError(INVALID_CREDENTIALS, reason="unknown_user")
    if is_locked(user):
        raise AuthError(ACCOUNT_LOCKED, reason="locked", user=user)
    if not user.is_active:
        if await verify_password(user.password_hash, password):
            raise AuthError(ACCOUNT_DISABLED, reason="disabled", user=user)
        raise AuthError(INVALID_CREDENTIALS, reason="disabled_bad_password", user=user)
    attempt = await _reserve_attempt(factory, user.id)
    if attempt > MAX_FAILED_LOGINS:  # the lock is being set by an earlier racer: no check at all
        await _lock(session, user)
        raise AuthError(ACCOUNT_LOCKED, reason="locked", user=user)
    if not await verify_password(user.password_hash, password):
        if attempt >= MAX_FAILED_LOGINS:
            await _lock(session, user)
            raise AuthError(ACCOUNT_LOCKED, reason="locked_now", user=user)
        raise AuthError(INVALID_CREDENTIALS, reason="bad_password", user=user)
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_login_attempts=0, locked_until=None, last_login=utcnow(), last_login_ip=ip)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(user)
    return user


async def _lock(session: AsyncSession, user: User) -> None:
    await session.execute(
        update(User)
        .where(User.id == user.id, User.locked_until.is_(None))
        .values(locked_until=utcnow() + timedelta(minutes=LOCK_MINUTES))
        .execution_options(synchronize_session=False)
    )


async def check_password(session: AsyncSession, *, user: User | None, password: str) -> bool:
    """The token route's check: no counting on the account, one answer for every refusal."""
    if user is None:
        await verify_password(None, password)
        return False
    ok = await verify_password(user.password_hash, password)
    return ok and user.is_active and not is_locked(user)


# --- legacy sessions (user_sessions rows, shared with the Flask app) -----------------------


async def create_session(
    session: AsyncSession, *, user: User, ip: str | None, user_agent: str | None, lifetime: timedelta
) -> UserSession:
    now = utcnow()
    row = UserSession(
        user_id=user.id,
        session_token=new_secret(),
        status=SessionStatus.ACTIVE,
        ip_address=ip,
        user_agent=user_agent,
        created_at=now,
        last_activity=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    await session.flush()
    return row


# Every request with a session cookie runs this: built once, its cache key is memoized (building
# it per request was a tenth of a status PUT's CPU).
_SESSION_BY_TOKEN = (
    select(UserSession)
    .join(UserSession.user)
    .options(contains_eager(UserSession.user))
    .where(UserSession.session_token == bindparam("token"))
)


async def find_valid_session(session: AsyncSession, *, user_id: object, token: object) -> UserSession | None:
    """The ACTIVE, unexpired session row for this token whose user is active (legacy's rule)."""
    if not isinstance(token, str) or not token or not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    row = await session.scalar(_SESSION_BY_TOKEN, {"token": token})
    if row is None or row.user_id != user_id or row.status != SessionStatus.ACTIVE:
        return None
    if row.expires_at <= utcnow() or not row.user.is_active:
        return None
    return row


async def revoke_session(session: AsyncSession, *, token: object) -> bool:
    """End a legacy session and every refresh family (so every token) issued from it."""
    if not isinstance(token, str):
        return False
    row_id = await session.scalar(select(UserSession.id).where(UserSession.session_token == token))
    if row_id is None:
        return False
    await revoke_session_rows(session, ids=[row_id])
    return True


async def revoke_session_rows(session: AsyncSession, *, ids: list[int]) -> None:
    if not ids:
        return
    await session.execute(
        update(UserSession)
        .where(UserSession.id.in_(ids), UserSession.status == SessionStatus.ACTIVE)
        .values(status=SessionStatus.REVOKED)
    )
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.session_id.in_(ids), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def session_is_live(session: AsyncSession, *, session_id: int, user_id: int) -> bool:
    """Legacy's rule for a session row, by id: ACTIVE, unexpired, its user's, the user active."""
    row = await session.execute(
        select(UserSession.status, UserSession.expires_at, User.is_active)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_id, UserSession.user_id == user_id)
    )
    found = row.one_or_none()
    if found is None:
        return False
    status, expires_at, active = found
    return bool(status == SessionStatus.ACTIVE and expires_at > utcnow() and active)


# --- refresh tokens ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedRefresh:
    token: str
    family_id: str
    expires_at: datetime
    session_id: int


class RefreshError(Exception):
    def __init__(self, reason: str, *, user_id: int | None = None, family_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user_id = user_id
        self.family_id = family_id


async def issue_refresh(
    session: AsyncSession,
    *,
    user_id: int,
    ttl: timedelta,
    session_id: int,
    family_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> IssuedRefresh:
    token = new_secret()
    now = utcnow()
    row = RefreshToken(
        user_id=user_id,
        session_id=session_id,
        family_id=family_id or str(uuid.uuid4()),
        token_hash=digest(token),
        issued_at=now,
        expires_at=now + ttl,
        ip_address=ip,
        user_agent=user_agent,
    )
    session.add(row)
    await session.flush()
    return IssuedRefresh(
        token=token, family_id=row.family_id, expires_at=row.expires_at, session_id=session_id
    )


async def revoke_family(session: AsyncSession, *, family_id: str) -> None:
    """End a refresh family and the legacy session of the login it came from."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    linked = await session.scalars(
        select(RefreshToken.session_id)
        .where(RefreshToken.family_id == family_id, RefreshToken.session_id.is_not(None))
        .distinct()
    )
    await revoke_session_rows(session, ids=[i for i in linked.all() if i is not None])


async def family_is_revoked(session: AsyncSession, *, family_id: str) -> bool:
    found = await session.scalar(
        select(RefreshToken.id)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None))
        .limit(1)
    )
    return found is not None


async def rotate_refresh(
    session: AsyncSession,
    *,
    token: str,
    ttl: timedelta,
    session_lifetime: timedelta,
    ip: str | None,
    user_agent: str | None,
) -> tuple[User, IssuedRefresh]:
    """Spend `token` and issue its successor; a token spent twice revokes its whole family
    (and the legacy session it belongs to). A family whose legacy session has ended is over."""
    row = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))
    if row is None:
        raise RefreshError("unknown")
    if row.revoked_at is not None:
        raise RefreshError("revoked", user_id=row.user_id, family_id=row.family_id)
    now = utcnow()
    if row.expires_at <= now:
        raise RefreshError("expired", user_id=row.user_id, family_id=row.family_id)
    # Compare-and-set: of two concurrent uses of one token, exactly one wins.
    spent = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(spent, "rowcount", 0):
        await revoke_family(session, family_id=row.family_id)
        raise RefreshError("reused", user_id=row.user_id, family_id=row.family_id)
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        await revoke_family(session, family_id=row.family_id)
        raise RefreshError("inactive_user", user_id=row.user_id, family_id=row.family_id)
    if row.session_id is None or not await session_is_live(
        session, session_id=row.session_id, user_id=user.id
    ):
        await revoke_family(session, family_id=row.family_id)
        raise RefreshError("session_ended", user_id=row.user_id, family_id=row.family_id)
    # The login lives as long as its refresh family is used: the session row follows it.
    await session.execute(
        update(UserSession)
        .where(UserSession.id == row.session_id, UserSession.expires_at < now + session_lifetime)
        .values(expires_at=now + session_lifetime, last_activity=now)
    )
    issued = await issue_refresh(
        session,
        user_id=user.id,
        ttl=ttl,
        session_id=row.session_id,
        family_id=row.family_id,
        ip=ip,
        user_agent=user_agent,
    )
    return user, issued


async def family_of(session: AsyncSession, *, token: str) -> str | None:
    return await session.scalar(
        select(RefreshToken.family_id).where(RefreshToken.token_hash == digest(token))
    )


# --- API keys ------------------------------------------------------------------------------


async def create_api_key(
    session: AsyncSession, *, name: str, user: User, role: UserRole, created_by: int
) -> tuple[ApiKey, str]:
    """The new key row and the key itself (returned once, never stored)."""
    key = new_api_key()
    row = ApiKey(
        name=name,
        prefix=key[:12],
        key_hash=digest(key),
        user_id=user.id,
        role=lower_role(role, user.role).value,
        created_by=created_by,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row, key


async def find_api_key(session: AsyncSession, *, key: str) -> tuple[ApiKey, User] | None:
    row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(key)))
    if row is None or row.revoked_at is not None:
        return None
    user = await session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return row, user


# --- answers -------------------------------------------------------------------------------


def user_summary(user: User) -> dict[str, object]:
    """The `user` object of legacy's login answer."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role.value,
        "can_admin": user.can_access_admin,
        "can_modify": user.can_modify_content,
        "can_delete": user.can_delete_content,
    }


def user_dict(user: User) -> dict[str, object]:
    """Legacy's `User.to_dict()`."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role.value,
        "is_active": user.is_active,
        "is_email_verified": user.is_email_verified,
        "two_factor_enabled": user.two_factor_enabled,
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "created_at": user.created_at.isoformat() if user.created_at else None,
    }


def role_permissions(role: UserRole) -> dict[str, bool]:
    return {
        "can_admin": role in (UserRole.ADMIN, UserRole.MANAGER),
        "can_modify": role in (UserRole.ADMIN, UserRole.MANAGER, UserRole.USER),
        "can_delete": role in (UserRole.ADMIN, UserRole.MANAGER),
        "can_manage_users": role == UserRole.ADMIN,
    }
