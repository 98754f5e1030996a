"""A rule made through an approval records who approved it: its runs go through as approved.

Revision ID: w013
Revises: w009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "w013"
down_revision = "w009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rule") as table:
        table.add_column(sa.Column("approved_by", sa.String(64), nullable=True))
        table.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rule") as table:
        table.drop_column("approved_at")
        table.drop_column("approved_by")
