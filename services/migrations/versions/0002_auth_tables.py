"""Auth tables owned by the services: refresh tokens, API keys, audit log, login failures.

Revision ID: 0002_auth_tables
Revises: 0001_baseline
Create Date: 2026-11-25

Additive only: four new tables, nothing the legacy app reads or writes is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_auth_tables"
down_revision: str | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_refresh_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("family_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime()),
        sa.Column("revoked_at", sa.DateTime()),
        sa.Column("ip_address", sa.String(45)),
        sa.Column("user_agent", sa.Text()),
    )
    op.create_index("idx_auth_refresh_family", "auth_refresh_tokens", ["family_id"])
    op.create_index("idx_auth_refresh_user", "auth_refresh_tokens", ["user_id"])
    op.create_table(
        "auth_api_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_by", sa.Integer()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime()),
        sa.Column("last_used_ip", sa.String(45)),
        sa.Column("revoked_at", sa.DateTime()),
    )
    op.create_table(
        "auth_audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer()),
        sa.Column("username", sa.String(120)),
        sa.Column("ip_address", sa.String(45)),
        sa.Column("user_agent", sa.Text()),
        sa.Column("detail", sa.JSON()),
    )
    op.create_index("idx_auth_audit_at", "auth_audit_log", ["at"])
    op.create_index("idx_auth_audit_event", "auth_audit_log", ["event"])
    op.create_table(
        "auth_login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("idx_auth_login_failures_key_at", "auth_login_failures", ["key_hash", "at"])


def downgrade() -> None:
    op.drop_table("auth_login_failures")
    op.drop_table("auth_audit_log")
    op.drop_table("auth_api_keys")
    op.drop_table("auth_refresh_tokens")
