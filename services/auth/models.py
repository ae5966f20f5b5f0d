"""Tables the services own for auth (created by migration 0002; legacy never reads them).

They hang off the shared `Base` so one metadata describes the database, but they are not in
`SHARED_TABLES`: the schema-parity test ignores them and Alembic manages them. No
relationships: every read is an explicit `select()`. Secrets are never stored, only their
sha256 (refresh tokens, API keys).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.models import Base, JsonValue, utcnow

REFRESH_TOKENS = "auth_refresh_tokens"
API_KEYS = "auth_api_keys"
AUDIT_LOG = "auth_audit_log"
LOGIN_FAILURES = "auth_login_failures"
AUTH_TABLES = frozenset({REFRESH_TOKENS, API_KEYS, AUDIT_LOG, LOGIN_FAILURES})


class RefreshToken(Base):
    """One opaque refresh token; `family_id` groups a login's chain of rotations."""

    __tablename__ = REFRESH_TOKENS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    family_id: Mapped[str] = mapped_column(String(36), nullable=False)
    # The `user_sessions` row of the login the family belongs to (migration 0003): ending
    # that session, on either app, ends the family, and the reverse.
    session_id: Mapped[int | None] = mapped_column(Integer)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("idx_auth_refresh_family", "family_id"),
        Index("idx_auth_refresh_user", "user_id"),
        Index("idx_auth_refresh_session", "session_id"),
    )


class ApiKey(Base):
    """An integration key: acts as `user_id`, never above `role`; shown once, stored hashed."""

    __tablename__ = API_KEYS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """Who did what auth action, when, from where. Never a password, token or key."""

    __tablename__ = AUDIT_LOG

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(120))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[JsonValue | None] = mapped_column(JSON)

    __table_args__ = (Index("idx_auth_audit_at", "at"), Index("idx_auth_audit_event", "event"))


class LoginFailure(Base):
    """One failed login, keyed by a hash of `user:<name>` or `ip:<address>` (the rate limit's log)."""

    __tablename__ = LOGIN_FAILURES

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("idx_auth_login_failures_key_at", "key_hash", "at"),)
