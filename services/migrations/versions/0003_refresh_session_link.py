"""Refresh-token families point at the legacy session row of their login.

Revision ID: 0003_refresh_session_link
Revises: 0002_auth_tables
Create Date: 2026-12-02

Additive only: one nullable column and its index on a services-owned table. Families issued
before this migration have no link; services refuse to refresh them (their owners log in again).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_refresh_session_link"
down_revision: str | None = "0002_auth_tables"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_refresh_tokens") as batch:
        batch.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
    op.create_index("idx_auth_refresh_session", "auth_refresh_tokens", ["session_id"])


def downgrade() -> None:
    op.drop_index("idx_auth_refresh_session", table_name="auth_refresh_tokens")
    with op.batch_alter_table("auth_refresh_tokens") as batch:
        batch.drop_column("session_id")
