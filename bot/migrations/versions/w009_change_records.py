"""Change records (what an undo needs, written before a change starts); the contact index
keeps each contact's tag ids and list ids. The index is made cold, so that its next full sync
reads them.

Revision ID: w009
Revises: w006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "w009"
down_revision = "w008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contact_index") as table:
        table.add_column(sa.Column("taggings", sa.Text(), nullable=False, server_default=""))
        table.add_column(
            sa.Column("list_memberships", sa.Text(), nullable=False, server_default="")
        )
    op.execute("DELETE FROM contact_index_sync")
    op.create_table(
        "change_record",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("parent_ts", sa.String(32), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("activity_id", sa.String(64), nullable=True),
        sa.Column("requester_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("undo_claim", sa.String(36), nullable=True),
        sa.Column("undo_job_id", sa.String(36), nullable=True),
        sa.Column("undone_by", sa.String(64), nullable=True),
        sa.Column("undone_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_change_record_job", "change_record", ["job_id"])
    op.create_index("ix_change_record_activity", "change_record", ["activity_id"])
    op.create_index(
        "ix_change_record_parent", "change_record", ["workspace_id", "channel_id", "parent_ts"]
    )


def downgrade() -> None:
    op.drop_index("ix_change_record_parent", table_name="change_record")
    op.drop_index("ix_change_record_activity", table_name="change_record")
    op.drop_index("ix_change_record_job", table_name="change_record")
    op.drop_table("change_record")
    with op.batch_alter_table("contact_index") as table:
        table.drop_column("list_memberships")
        table.drop_column("taggings")
