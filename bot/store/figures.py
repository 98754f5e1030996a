"""Read-only figures for operators: the schema's revision, what is in flight, the poller's lag.

Each is one short read, cheap enough for every readiness probe and metrics scrape.
"""

from __future__ import annotations

from datetime import datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.store.engine import alembic_config
from bot.store.jobs import JobRow
from bot.store.store import Store


def schema_behind(store: Store) -> str | None:
    """None when the database answers at the migrations' head; else why not, in words.

    Raises whatever the driver raises when the database does not answer."""
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    with store.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return None
    have = ", ".join(sorted(current)) or "none (no tables yet)"
    return f"database schema is at {have}, not {', '.join(sorted(heads))}: run cctag db upgrade"


def jobs_in_flight(store: Store) -> int:
    query = select(func.count()).where(col(JobRow.ended_at).is_(None))
    with Session(store.engine) as session:
        return int(session.exec(query).one())


def poller_lag_seconds(store: Store, now: datetime) -> float:
    """How long the most overdue activity has waited past its next poll (0: none is late)."""
    due = store.next_due_at()
    if due is None:
        return 0.0
    return max((now - due).total_seconds(), 0.0)
