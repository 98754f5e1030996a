"""Contact index: each account's contacts by lower-cased email, and its sync state; jobs.

Revision ID: w004
Revises: w001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "w004"
down_revision = "w001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_index",
        sa.Column("account_key", sa.String(128), primary_key=True),
        sa.Column("contact_id", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_contact_index_email", "contact_index", ["account_key", "email"])
    op.create_table(
        "contact_index_sync",
        sa.Column("account_key", sa.String(128), primary_key=True),
        sa.Column("full_sync_at", UTCDateTime(), nullable=True),
        sa.Column("refreshed_at", UTCDateTime(), nullable=True),
        sa.Column("watermark", UTCDateTime(), nullable=True),
        sa.Column("contacts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("parent_ts", sa.String(32), nullable=True),
        sa.Column("progress_ts", sa.String(32), nullable=True),
        sa.Column("requester_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_posted", sa.Boolean(), nullable=False),
        sa.Column("end_ts", sa.String(32), nullable=True),
    )
    op.create_index("ix_job_workspace_created", "job", ["workspace_id", "created_at"])
    op.create_index("ix_job_ended", "job", ["ended_at"])
    op.create_table(
        "job_activity",
        sa.Column("job_id", sa.String(36), sa.ForeignKey("job.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("activity_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("percent_done", sa.Integer(), nullable=True),
        sa.Column("items_total_count", sa.Integer(), nullable=True),
        sa.Column("items_completed_count", sa.Integer(), nullable=True),
        sa.Column("activity_errors", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_job_activity_activity", "job_activity", ["activity_id"])


def downgrade() -> None:
    op.drop_table("job_activity")
    op.drop_table("job")
    op.drop_table("contact_index_sync")
    op.drop_index("ix_contact_index_email", table_name="contact_index")
    op.drop_table("contact_index")
