"""Workspaces: Slack installations and install states, Constant Contact connections, their
OAuth2 states, the shared token-endpoint gate, per-workspace permission policy.

Revision ID: w001
Revises: 0001
Create Date: 2026-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "w001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_installation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("enterprise_id", sa.String(64), nullable=True),
        sa.Column("team_id", sa.String(64), nullable=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("has_bot", sa.Boolean(), nullable=False),
        sa.Column("installed_at", UTCDateTime(), nullable=False),
        sa.Column("document_enc", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_slack_installation_lookup",
        "slack_installation",
        ["client_id", "enterprise_id", "team_id", "installed_at"],
    )
    op.create_table(
        "slack_oauth_state",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "cc_connection",
        sa.Column("workspace_id", sa.String(64), primary_key=True),
        sa.Column("account_name", sa.String(255), nullable=True),
        sa.Column("access_token_enc", sa.Text(), nullable=False),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("connected_by", sa.String(64), nullable=False),
        sa.Column("connected_at", UTCDateTime(), nullable=False),
        sa.Column("refreshed_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "cc_oauth_state",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column("workspace_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("verifier_enc", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_cc_oauth_state_expires", "cc_oauth_state", ["expires_at"])
    gate = op.create_table(
        "cc_token_gate",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_request_at", UTCDateTime(), nullable=True),
    )
    op.bulk_insert(gate, [{"id": 1, "last_request_at": None}])
    op.create_table(
        "workspace_policy",
        sa.Column("workspace_id", sa.String(64), primary_key=True),
        sa.Column("admin_users", sa.Text(), nullable=True),
        sa.Column("admin_usergroup", sa.String(64), nullable=True),
        sa.Column("allowed_channels", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "workspace_policy",
        "cc_token_gate",
        "cc_oauth_state",
        "cc_connection",
        "slack_oauth_state",
        "slack_installation",
    ):
        op.drop_table(table)
