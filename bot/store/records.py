"""Change records: what reversing a change needs, written before the change starts.

A record names the change by where it is told (its channel and parent message) and, for a job,
by the job's id; `undo_claim` is set once, by the one undo that runs (two at once: one wins).
The schema is made by the alembic migration `w009_change_records`.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, SQLModel, col, select

from bot.store.repository import Repository
from bot.store.tables import _when


class ChangeRecordRow(SQLModel, table=True):
    __tablename__ = "change_record"
    __table_args__ = (
        sa.Index("ix_change_record_job", "job_id"),
        sa.Index("ix_change_record_activity", "activity_id"),
        sa.Index("ix_change_record_parent", "workspace_id", "channel_id", "parent_ts"),
    )

    id: str = Field(primary_key=True, max_length=36)
    workspace_id: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    parent_ts: str = Field(max_length=32)
    job_id: str | None = Field(default=None, max_length=36)
    # The single activity of a plan of one step, once it started.
    activity_id: str | None = Field(default=None, max_length=64)
    requester_id: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    summary: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    data: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON, see usecases/undo
    created_at: datetime = _when(nullable=False)
    undo_claim: str | None = Field(default=None, max_length=36)
    undo_job_id: str | None = Field(default=None, max_length=36)
    undone_by: str | None = Field(default=None, max_length=64)
    undone_at: datetime | None = _when()


class NewRecord(BaseModel):
    workspace_id: str
    channel_id: str
    parent_ts: str
    job_id: str | None = None
    requester_id: str
    kind: str
    summary: str
    data: str


class ChangeRecord(NewRecord):
    id: str
    activity_id: str | None = None
    created_at: datetime
    undo_claim: str | None = None
    undo_job_id: str | None = None
    undone_by: str | None = None
    undone_at: datetime | None = None


class RecordStore(Repository):
    """Every method is one transaction."""

    def save(self, new: NewRecord) -> ChangeRecord:
        row = ChangeRecordRow(
            id=str(uuid.uuid4()), created_at=self._store.clock.now(), **new.model_dump()
        )
        with self._store.write() as session:
            session.add(row)
        return ChangeRecord.model_validate(row.model_dump())

    def get(self, record_id: str) -> ChangeRecord | None:
        with self._read() as session:
            row = session.get(ChangeRecordRow, record_id)
            return None if row is None else ChangeRecord.model_validate(row.model_dump())

    def of_job(self, workspace_id: str, job_id: str) -> ChangeRecord | None:
        return self._first(
            col(ChangeRecordRow.workspace_id) == workspace_id,
            col(ChangeRecordRow.job_id) == job_id,
        )

    def of_activity(self, workspace_id: str, activity_id: str) -> ChangeRecord | None:
        return self._first(
            col(ChangeRecordRow.workspace_id) == workspace_id,
            col(ChangeRecordRow.activity_id) == activity_id,
        )

    def bind(self, record_id: str, activity_id: str) -> None:
        """The record's plan of one step started as this activity."""
        with self._store.write() as session:
            session.execute(
                sa.update(ChangeRecordRow)
                .where(col(ChangeRecordRow.id) == record_id)
                .values(activity_id=activity_id)
            )

    def _first(self, *where: sa.ColumnElement[bool]) -> ChangeRecord | None:
        query = select(ChangeRecordRow).where(*where).order_by(col(ChangeRecordRow.created_at))
        with self._read() as session:
            row = session.exec(query.limit(1)).first()
            return None if row is None else ChangeRecord.model_validate(row.model_dump())

    def last_change_ended(self, workspace_id: str) -> datetime | None:
        """When the workspace's last activity started through cctag ended (the contact index
        must be refreshed after it to know what it did)."""
        from bot.store.tables import TrackedActivityRow

        query = select(sa.func.max(col(TrackedActivityRow.ended_at))).where(
            col(TrackedActivityRow.workspace_id) == workspace_id
        )
        with self._read() as session:
            found = session.exec(query).one()
        return found if isinstance(found, datetime) else None

    def claim(self, record_id: str, claim: str, user_id: str) -> bool:
        """True for the one undo that takes the record; any other, then or later, is refused."""
        with self._store.write() as session:
            result = session.execute(
                sa.update(ChangeRecordRow)
                .where(
                    col(ChangeRecordRow.id) == record_id,
                    col(ChangeRecordRow.undo_claim).is_(None),
                )
                .values(undo_claim=claim, undone_by=user_id, undone_at=self._store.clock.now())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def release(self, record_id: str, claim: str) -> None:
        """The undo did not start: the change can be undone again."""
        with self._store.write() as session:
            session.execute(
                sa.update(ChangeRecordRow)
                .where(
                    col(ChangeRecordRow.id) == record_id, col(ChangeRecordRow.undo_claim) == claim
                )
                .values(undo_claim=None, undone_by=None, undone_at=None, undo_job_id=None)
            )

    def undone_by(self, record_id: str, claim: str, change_id: str) -> None:
        """The undo started as this job or activity."""
        with self._store.write() as session:
            session.execute(
                sa.update(ChangeRecordRow)
                .where(
                    col(ChangeRecordRow.id) == record_id, col(ChangeRecordRow.undo_claim) == claim
                )
                .values(undo_job_id=change_id)
            )

    def created_tag(self, change_id: str, tag_id: str) -> None:
        """The change (a job or an activity) made the tag (an undo of a delete): its undo
        deletes it."""
        with self._store.write() as session:
            row = session.exec(
                select(ChangeRecordRow).where(
                    sa.or_(
                        col(ChangeRecordRow.job_id) == change_id,
                        col(ChangeRecordRow.activity_id) == change_id,
                    )
                )
            ).first()
            if row is not None:
                data = json.loads(row.data)
                data["created_tag"] = tag_id
                row.data = json.dumps(data)
                session.add(row)
