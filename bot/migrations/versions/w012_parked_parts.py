"""A job's part the day's budget refused waits, parked, for the time it may start
(`not_before`: 00:00 UTC, or sooner for a workspace's share); the worker starts it then.

Revision ID: w012
Revises: w009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "w012"
down_revision = "w013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_activity") as table:
        table.add_column(sa.Column("not_before", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_activity") as table:
        table.drop_column("not_before")
