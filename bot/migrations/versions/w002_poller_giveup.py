"""Poller give-up: an activity whose Slack thread cannot be written (not_in_channel,
is_archived, token_revoked, ...) is finished with the Slack error that stopped it, and the DM
its requester was told in (the `D…` id Slack answered), so it costs no more Constant Contact calls.

Revision ID: w002
Revises: w003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "w002"
down_revision = "w003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tracked_activity") as table:
        table.add_column(sa.Column("slack_error", sa.String(64), nullable=True))
        table.add_column(sa.Column("requester_dm", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tracked_activity") as table:
        table.drop_column("requester_dm")
        table.drop_column("slack_error")
