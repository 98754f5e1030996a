"""Rules: a bulk command line on a schedule in its creator's time zone, with its next run, how
the last one went, and a lease so that one worker runs each due run.

Revision ID: w008
Revises: w006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "w008"
down_revision = "w010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("creator_id", sa.String(64), nullable=False),
        sa.Column("schedule", sa.String(64), nullable=False),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("paused_why", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_run_at", UTCDateTime(), nullable=False),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("last_result", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_rule_workspace", "rule", ["workspace_id", "id"])
    op.create_index("ix_rule_due", "rule", ["paused", "next_run_at"])


def downgrade() -> None:
    op.drop_index("ix_rule_due", table_name="rule")
    op.drop_index("ix_rule_workspace", table_name="rule")
    op.drop_table("rule")
