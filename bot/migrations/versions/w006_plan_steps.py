"""Plans of ordered steps: each part of a job keeps its activity kind, the part it waits for
(a waiting part starts once that one completed) and how often it was sent; a job names until
when its launcher holds it (a launcher gone, the next process takes the plan over).

Revision ID: w006
Revises: w005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.tables import UTCDateTime

revision = "w006"
down_revision = "w005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_activity") as table:
        table.add_column(sa.Column("kind", sa.String(64), nullable=True))
        table.add_column(sa.Column("after", sa.Integer(), nullable=True))
        table.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("job") as table:
        table.add_column(sa.Column("launch_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as table:
        table.drop_column("launch_until")
    with op.batch_alter_table("job_activity") as table:
        table.drop_column("attempts")
        table.drop_column("after")
        table.drop_column("kind")
