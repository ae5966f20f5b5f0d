"""Password hashing, login and session rows, as MVidarr's src/services/auth_service.py."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Request
from sqlalchemy import or_
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from legacy_flask.models import SessionStatus, User, UserSession, utcnow

SESSION_LIFETIME = timedelta(hours=24)
# pbkdf2 keeps seeding and logins quick enough for a demo app; werkzeug's format either way.
HASH_METHOD = "pbkdf2:sha256:100000"


class AuthError(Exception):
    """A login refused for a reason the client may see."""


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def client_ip(request: Request) -> str | None:
    forwarded = request.headers.get("X-Forwarded-For", "")
    first = forwarded.split(",")[0].strip()
    return first or request.remote_addr


def authenticate(session: Session, username: str, password: str, ip: str | None) -> User:
    """The user for these credentials; counts failures and locks after five (30 minutes)."""
    user = session.query(User).filter(or_(User.username == username, User.email == username)).first()
    if user is None:
        raise AuthError("Invalid username or password")
    if user.is_locked():
        raise AuthError("Account is locked due to too many failed login attempts. Try again later.")
    if not user.is_active:
        raise AuthError("Account is disabled")
    if not verify_password(user.password_hash, password):
        if user.locked_until is not None:  # an expired lock starts a fresh count
            user.reset_failed_login()
        user.increment_failed_login()
        session.commit()
        if user.is_locked():
            raise AuthError("Account is locked due to too many failed login attempts. Try again later.")
        raise AuthError("Invalid username or password")
    user.reset_failed_login()
    user.last_login = utcnow()
    user.last_login_ip = ip
    session.commit()
    return user


def create_session(session: Session, user: User, ip: str | None, user_agent: str | None) -> UserSession:
    now = utcnow()
    row = UserSession(
        user_id=user.id,
        session_token=secrets.token_urlsafe(32),
        status=SessionStatus.ACTIVE,
        ip_address=ip,
        user_agent=user_agent,
        created_at=now,
        last_activity=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.commit()
    return row


def find_valid_session(session: Session, user_id: object, token: object) -> UserSession | None:
    """The ACTIVE, unexpired session row for this token whose user is active, or None."""
    if not isinstance(token, str) or not token or not isinstance(user_id, int):
        return None
    row = session.query(UserSession).filter_by(session_token=token).first()
    if row is None or row.user_id != user_id or row.status != SessionStatus.ACTIVE:
        return None
    if row.expires_at <= utcnow():
        return None
    if row.user is None or not row.user.is_active:
        return None
    return row


def revoke_session(session: Session, token: object) -> bool:
    if not isinstance(token, str):
        return False
    row = session.query(UserSession).filter_by(session_token=token).first()
    if row is None:
        return False
    row.status = SessionStatus.REVOKED
    session.commit()
    return True


def user_summary(user: User) -> dict[str, object]:
    """The `user` object of the login answer."""
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role.value,
        "can_admin": user.can_access_admin,
        "can_modify": user.can_modify_content,
        "can_delete": user.can_delete_content,
    }


def permissions(user: User) -> dict[str, bool]:
    return {
        "can_admin": user.can_access_admin,
        "can_modify": user.can_modify_content,
        "can_delete": user.can_delete_content,
        "can_manage_users": user.can_manage_users,
    }
