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


def downgrade() -> None:
    op.drop_table("contact_index_sync")
    op.drop_index("ix_contact_index_email", table_name="contact_index")
    op.drop_table("contact_index")
