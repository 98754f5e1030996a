"""The database tables (sqlmodel). The schema itself is made by the alembic migrations only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database.

    SQLite keeps naive text that compares in order, so values are stored as naive UTC there.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _when(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable))


class TrackedActivityRow(SQLModel, table=True):
    __tablename__ = "tracked_activity"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "activity_id", name="uq_tracked_workspace_activity"),
        sa.Index("ix_tracked_due", "ended_at", "next_poll_at"),
        sa.Index("ix_tracked_recent", "workspace_id", "created_at"),
        sa.Index("ix_tracked_job", "job_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    parent_ts: str = Field(max_length=32)
    progress_ts: str | None = Field(default=None, max_length=32)
    requester_id: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    summary: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    activity_id: str = Field(max_length=64)
    state: str = Field(max_length=32)
    percent_done: int | None = None
    items_total_count: int | None = None
    items_completed_count: int | None = None
    list_count: int | None = None
    activity_errors: str = Field(default="[]", sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)
    ended_at: datetime | None = _when()
    gave_up: bool = Field(default=False)
    parent_updated: bool = Field(default=False)
    next_poll_at: datetime = _when(nullable=False)
    poll_interval: float = Field(default=0.0)
    poll_count: int = Field(default=0)
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = _when()
    # Set when the poller gave up on the thread: the Slack error, and the requester's DM it used.
    slack_error: str | None = Field(default=None, max_length=64)
    requester_dm: str | None = Field(default=None, max_length=64)
    # A part of a job: its id, and whether this row posts the job's thread (one row per job).
    job_id: str | None = Field(default=None, max_length=36)
    job_carrier: bool = Field(default=False)


class SlackPostRow(SQLModel, table=True):
    """One reply the poller means to post (`pending`) or has posted (`posted`, with its ts).

    `key` is `progress` or `state:<state>`; unique per activity, so an intent exists once.
    """

    __tablename__ = "slack_post"
    __table_args__ = (sa.UniqueConstraint("tracked_id", "key", name="uq_slack_post_key"),)

    id: int | None = Field(default=None, primary_key=True)
    tracked_id: int = Field(foreign_key="tracked_activity.id", index=True)
    key: str = Field(max_length=64)
    status: str = Field(max_length=16)
    ts: str | None = Field(default=None, max_length=32)
    owner: str = Field(max_length=128)
    created_at: datetime = _when(nullable=False)
    posted_at: datetime | None = _when()


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_workspace_at", "workspace_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    action: str = Field(max_length=64)
    detail: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    outcome: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    at: datetime = _when(nullable=False)


class IdempotencyKeyRow(SQLModel, table=True):
    __tablename__ = "idempotency_key"

    key: str = Field(primary_key=True, max_length=255)
    claimed_at: datetime = _when(nullable=False)


class RateBudgetRow(SQLModel, table=True):
    """One row per API key (stored as its SHA-256): the next free request slot and today's count."""

    __tablename__ = "rate_budget"

    key_hash: str = Field(primary_key=True, max_length=64)
    next_slot: float = Field(default=0.0)  # seconds since the epoch, UTC
    day: str = Field(max_length=10)  # YYYY-MM-DD, UTC
    calls: int = Field(default=0)
    person_calls: int = Field(default=0)  # of `calls`, made for a person waiting


class SavedLineRow(SQLModel, table=True):
    """A request line too long for a confirmation button, kept until it is answered."""

    __tablename__ = "saved_line"

    id: str = Field(primary_key=True, max_length=36)
    workspace_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    line: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    created_at: datetime = _when(nullable=False)


class NamedLockRow(SQLModel, table=True):
    """A cross-process lock with an expiry (SQLite's stand-in for an advisory lock)."""

    __tablename__ = "named_lock"

    name: str = Field(primary_key=True, max_length=255)
    owner: str = Field(max_length=128)
    expires_at: datetime = _when(nullable=False)


# Registers the contact index's and the jobs' tables in the same metadata (own modules).
from bot.store import approvals as _approvals  # noqa: E402, F401
from bot.store import contact_index as _contact_index  # noqa: E402, F401
from bot.store import jobs as _jobs  # noqa: E402, F401


class RateShareRow(SQLModel, table=True):
    """One workspace's use of an API key today (bot/cc/budget.py: Share)."""

    __tablename__ = "rate_share"

    key_hash: str = Field(primary_key=True, max_length=64)
    workspace_id: str = Field(primary_key=True, max_length=64)
    calls: int = Field(default=0)
    background: int = Field(default=0)
    vtime: float = Field(default=0.0)
    wanted_at: float = Field(default=0.0)  # seconds since the epoch


class RateWaiterRow(SQLModel, table=True):
    """A background call waiting for a free slot of an API key (bot/cc/budget.py: Waiter)."""

    __tablename__ = "rate_waiter"

    id: str = Field(primary_key=True, max_length=32)
    key_hash: str = Field(max_length=64, index=True)
    workspace_id: str = Field(max_length=64)
    priority: int
    since: float
    seen: float


from bot.store import records as _records  # noqa: E402, F401
from bot.store import rules as _rules  # noqa: E402, F401
