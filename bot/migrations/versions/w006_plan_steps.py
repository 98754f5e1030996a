"""Plans of ordered steps: each part of a job keeps its activity kind and the part it waits
for (a waiting part starts once that one completed).

Revision ID: w006
Revises: w005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "w006"
down_revision = "w005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_activity") as table:
        table.add_column(sa.Column("kind", sa.String(64), nullable=True))
        table.add_column(sa.Column("after", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_activity") as table:
        table.drop_column("after")
        table.drop_column("kind")
