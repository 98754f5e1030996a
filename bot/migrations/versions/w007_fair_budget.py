"""The API key's budget shared fairly: each workspace's use of the day, the background calls
waiting for a slot, and the calls made for people waiting (bot/cc/budget.py).

Revision ID: w007
Revises: w006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "w007"
down_revision = "w006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rate_budget") as table:
        table.add_column(
            sa.Column("person_calls", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "rate_share",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("workspace_id", sa.String(64), primary_key=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("background", sa.Integer(), nullable=False),
        sa.Column("vtime", sa.Float(), nullable=False),
        sa.Column("wanted_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "rate_waiter",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("since", sa.Float(), nullable=False),
        sa.Column("seen", sa.Float(), nullable=False),
    )
    op.create_index("ix_rate_waiter_key_hash", "rate_waiter", ["key_hash"])


def downgrade() -> None:
    op.drop_index("ix_rate_waiter_key_hash", table_name="rate_waiter")
    op.drop_table("rate_waiter")
    op.drop_table("rate_share")
    with op.batch_alter_table("rate_budget") as table:
        table.drop_column("person_calls")
