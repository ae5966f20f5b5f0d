"""Baseline: the services take over a database whose shared tables legacy created.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-25

Nothing to create yet: this revision only stamps `services_alembic_version`, so later
services-owned tables (refresh tokens, audit log, ...) have a root to hang from.
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0001_baseline"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
