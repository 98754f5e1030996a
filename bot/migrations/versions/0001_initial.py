"""Tracked activities, Slack post intents, audit log, idempotency keys, rate budget, locks.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracked_activity",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("parent_ts", sa.String(32), nullable=False),
        sa.Column("progress_ts", sa.String(32), nullable=True),
        sa.Column("requester_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("activity_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("percent_done", sa.Integer(), nullable=True),
        sa.Column("items_total_count", sa.Integer(), nullable=True),
        sa.Column("items_completed_count", sa.Integer(), nullable=True),
        sa.Column("list_count", sa.Integer(), nullable=True),
        sa.Column("activity_errors", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("gave_up", sa.Boolean(), nullable=False),
        sa.Column("parent_updated", sa.Boolean(), nullable=False),
        sa.Column("next_poll_at", UTCDateTime(), nullable=False),
        sa.Column("poll_interval", sa.Float(), nullable=False),
        sa.Column("poll_count", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("workspace_id", "activity_id", name="uq_tracked_workspace_activity"),
    )
    op.create_index("ix_tracked_due", "tracked_activity", ["ended_at", "next_poll_at"])
    op.create_index("ix_tracked_recent", "tracked_activity", ["workspace_id", "created_at"])

    op.create_table(
        "slack_post",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tracked_id", sa.Integer(), sa.ForeignKey("tracked_activity.id"), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("posted_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("tracked_id", "key", name="uq_slack_post_key"),
    )
    op.create_index("ix_slack_post_tracked_id", "slack_post", ["tracked_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_audit_workspace_at", "audit_log", ["workspace_id", "at"])

    op.create_table(
        "idempotency_key",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
    )

    op.create_table(
        "rate_budget",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("next_slot", sa.Float(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
    )

    op.create_table(
        "named_lock",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("named_lock")
    op.drop_table("rate_budget")
    op.drop_table("idempotency_key")
    op.drop_index("ix_audit_workspace_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_slack_post_tracked_id", table_name="slack_post")
    op.drop_table("slack_post")
    op.drop_index("ix_tracked_recent", table_name="tracked_activity")
    op.drop_index("ix_tracked_due", table_name="tracked_activity")
    op.drop_table("tracked_activity")
