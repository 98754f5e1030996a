"""Constant Contact connections remember that Constant Contact refused their refresh token
(another deployment re-authorized the account): when, and what it said.

Revision ID: w003
Revises: w004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "w003"
down_revision = "w004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cc_connection") as table:
        table.add_column(sa.Column("broken_at", UTCDateTime(), nullable=True))
        table.add_column(sa.Column("broken_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cc_connection") as table:
        table.drop_column("broken_reason")
        table.drop_column("broken_at")
