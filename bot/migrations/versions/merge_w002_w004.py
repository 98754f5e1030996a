"""Merge point: the poller's give-up columns (w002) and the contact index (w004) both follow
w001, written side by side; this revision joins the two heads so `upgrade head` has one.

Revision ID: m002004
Revises: w002, w004
Create Date: 2026-12-01
"""

from __future__ import annotations

revision = "m002004"
down_revision = ("w002", "w004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # nothing to change: both branches' tables are made by their own revisions


def downgrade() -> None:
    pass
