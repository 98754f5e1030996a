"""Jobs followed as one: a tracked activity names its job and whether it carries the job's
thread (the one row that posts for the whole job); saved lines: a request too long for a
confirmation button, kept until the yes.

Revision ID: w005
Revises: w002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "w005"
down_revision = "w002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tracked_activity") as table:
        table.add_column(sa.Column("job_id", sa.String(36), nullable=True))
        table.add_column(
            sa.Column("job_carrier", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_tracked_job", "tracked_activity", ["job_id"])
    op.create_table(
        "saved_line",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("saved_line")
    op.drop_index("ix_tracked_job", table_name="tracked_activity")
    with op.batch_alter_table("tracked_activity") as table:
        table.drop_column("job_carrier")
        table.drop_column("job_id")
