"""Approvals: a restricted or large plan asked by someone without the right, frozen as
previewed until someone with the right approves or denies it, or it expires.

Revision ID: w010
Revises: w006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "w010"
down_revision = "w007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_request",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("requester_id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("preview", sa.Text(), nullable=False),
        sa.Column("line", sa.Text(), nullable=True),
        sa.Column("form", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("posts", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_approval_workspace_state", "approval_request", ["workspace_id", "state"])
    op.create_index("ix_approval_state_expires", "approval_request", ["state", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_approval_state_expires", "approval_request")
    op.drop_index("ix_approval_workspace_state", "approval_request")
    op.drop_table("approval_request")
