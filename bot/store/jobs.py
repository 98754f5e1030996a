"""Jobs: one request of several activities, stored with its parts, followed as one.

A job is written before any of its activities starts, each part with the request body it will
send (`planned`), so a process that dies half-way leaves a job that says what was started and
what was not: nothing is half-done without a record of it. The schema is made by the alembic
migration `w004_contact_index`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel, col, select

from bot.store.repository import Repository
from bot.store.tables import _when

PLANNED = "planned"  # a part not started yet
WAITING = "waiting"  # a part that starts once the part it waits for completed
STARTING = "starting"  # its POST may be on its way: in doubt until settled
SKIPPED = "skipped"  # never started: the part it waited for did not complete
UNKNOWN = "unknown"  # sent, unanswered, and Constant Contact's list cannot tell whether it ran
PARKED = "parked"  # not sent: the day's budget is spent; started by the worker from `not_before`
RUNNING = "running"
LAUNCHED = "launched"  # every part was tried: a part still planned will never start
ENDED = "ended"


class JobRow(SQLModel, table=True):
    __tablename__ = "job"
    __table_args__ = (
        sa.Index("ix_job_workspace_created", "workspace_id", "created_at"),
        sa.Index("ix_job_ended", "ended_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    workspace_id: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    parent_ts: str | None = Field(default=None, max_length=32)
    progress_ts: str | None = Field(default=None, max_length=32)
    requester_id: str = Field(max_length=64)
    kind: str = Field(max_length=64)
    summary: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    state: str = Field(max_length=32)
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)
    ended_at: datetime | None = _when()
    end_posted: bool = Field(default=False)
    end_ts: str | None = Field(default=None, max_length=32)
    # Its launcher is alive until then (renewed at each step); None once every part was tried.
    launch_until: datetime | None = _when()


class JobActivityRow(SQLModel, table=True):
    __tablename__ = "job_activity"
    __table_args__ = (sa.Index("ix_job_activity_activity", "activity_id"),)

    job_id: str = Field(foreign_key="job.id", primary_key=True, max_length=36)
    position: int = Field(primary_key=True)
    request: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # the body, JSON
    kind: str | None = Field(default=None, max_length=64)  # None: the job's kind
    after: int | None = None  # the position of the part it waits for
    attempts: int = Field(default=0)  # times it was sent
    activity_id: str | None = Field(default=None, max_length=64)
    state: str = Field(max_length=32)
    percent_done: int | None = None
    items_total_count: int | None = None
    items_completed_count: int | None = None
    activity_errors: str = Field(default="[]", sa_column=sa.Column(sa.Text(), nullable=False))
    started_at: datetime | None = _when()
    updated_at: datetime = _when(nullable=False)
    not_before: datetime | None = _when()  # a parked part: worth trying again from then


class StepSpec(BaseModel):
    """A part's activity kind, and the position of the part it waits for (None: none)."""

    kind: str
    after: int | None = None


class NewJob(BaseModel):
    workspace_id: str
    channel_id: str
    requester_id: str
    kind: str
    summary: str
    requests: list[dict[str, Any]]  # each part's request body, in the order they start
    steps: list[StepSpec] = PydanticField(default_factory=list)  # none: all of `kind`, no wait


class JobPart(BaseModel):
    position: int
    request: dict[str, Any]
    kind: str | None = None
    after: int | None = None
    attempts: int = 0
    activity_id: str | None = None
    state: str = PLANNED
    percent_done: int | None = None
    items_total_count: int | None = None
    items_completed_count: int | None = None
    activity_errors: list[str] = PydanticField(default_factory=list)
    started_at: datetime | None = None
    not_before: datetime | None = None


class Job(BaseModel):
    id: str
    workspace_id: str
    channel_id: str
    parent_ts: str | None
    progress_ts: str | None
    requester_id: str
    kind: str
    summary: str
    state: str
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    end_posted: bool
    end_ts: str | None
    launch_until: datetime | None = None
    parts: list[JobPart]


class PartSeen(BaseModel):
    """What Constant Contact said about one part's activity."""

    state: str
    percent_done: int | None = None
    items_total_count: int | None = None
    items_completed_count: int | None = None
    activity_errors: list[str] = PydanticField(default_factory=list)


def _part(row: JobActivityRow) -> JobPart:
    data = row.model_dump()
    data["request"] = json.loads(row.request)
    data["activity_errors"] = json.loads(row.activity_errors or "[]")
    return JobPart.model_validate(data)


class JobStore(Repository):
    """Jobs and their parts; every method is one transaction and answers pydantic models."""

    def create(self, new: NewJob, launch_seconds: float = 60.0) -> Job:
        """The job and every part, `planned`, in one transaction; its id is a fresh uuid4.
        Its launcher holds it for `launch_seconds` (renewed as it goes)."""
        if not new.requests:
            raise ValueError("A job has at least one activity")
        now = self._now()
        job_id = str(uuid.uuid4())
        with self._store.write() as session:
            session.add(
                JobRow(
                    id=job_id,
                    **new.model_dump(exclude={"requests", "steps"}),
                    state=PLANNED,
                    created_at=now,
                    updated_at=now,
                    launch_until=now + timedelta(seconds=launch_seconds),
                )
            )
            session.flush()
            steps = new.steps or [StepSpec(kind=new.kind) for _ in new.requests]
            for position, (request, step) in enumerate(zip(new.requests, steps, strict=True)):
                session.add(
                    JobActivityRow(
                        job_id=job_id,
                        position=position,
                        request=json.dumps(request, sort_keys=True),
                        kind=step.kind,
                        after=step.after,
                        state=PLANNED if step.after is None else WAITING,
                        updated_at=now,
                    )
                )
        found = self.get(job_id)
        assert found is not None
        return found

    def get(self, job_id: str) -> Job | None:
        with self._read() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                return None
            parts = session.exec(
                select(JobActivityRow)
                .where(col(JobActivityRow.job_id) == job_id)
                .order_by(col(JobActivityRow.position))
            ).all()
            return Job(**row.model_dump(), parts=[_part(p) for p in parts])

    def set_parent(self, job_id: str, channel_id: str, parent_ts: str) -> None:
        self._update_job(job_id, channel_id=channel_id, parent_ts=parent_ts)

    def part_started(self, job_id: str, position: int, activity_id: str, state: str) -> None:
        """Part `position` is activity `activity_id` now; the job runs once a part does."""
        now = self._now()
        with self._store.write() as session:
            session.execute(
                self._part_update(job_id, position).values(
                    activity_id=activity_id, state=state, started_at=now, updated_at=now
                )
            )
            session.execute(
                sa.update(JobRow)
                .where(col(JobRow.id) == job_id, col(JobRow.state) == PLANNED)
                .values(state=RUNNING, updated_at=now)
            )

    def skip(self, job_id: str, position: int) -> bool:
        """A waiting part will never start: True the first time only."""
        with self._store.write() as session:
            result = session.execute(
                self._part_update(job_id, position, WAITING).values(
                    state=SKIPPED, updated_at=self._now()
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def starting(
        self, job_id: str, position: int, was: str = PLANNED, lease_seconds: float | None = None
    ) -> bool:
        """Part `position` is about to be sent (recorded before its POST): True for one
        caller only, so two processes never send it twice. `lease_seconds`: its launcher
        holds the job that much longer."""
        now = self._now()
        with self._store.write() as session:
            if lease_seconds is not None:
                session.execute(
                    sa.update(JobRow)
                    .where(col(JobRow.id) == job_id)
                    .values(launch_until=now + timedelta(seconds=lease_seconds))
                )
            result = session.execute(
                self._part_update(job_id, position, was).values(
                    state=STARTING,
                    started_at=now,
                    updated_at=now,
                    attempts=JobActivityRow.attempts + 1,
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def not_sent(self, job_id: str, position: int) -> None:
        """Part `position` was refused before Constant Contact started anything."""
        with self._store.write() as session:
            session.execute(
                self._part_update(job_id, position, STARTING).values(
                    state=PLANNED, started_at=None, updated_at=self._now()
                )
            )

    def park(self, job_id: str, positions: Sequence[int], not_before: datetime) -> None:
        """Parts the day's budget refused (`starting`, not sent) or will refuse (`planned`, or
        `parked` already) wait for `not_before`."""
        row = JobActivityRow
        with self._store.write() as session:
            session.execute(
                sa.update(row)
                .where(
                    col(row.job_id) == job_id,
                    col(row.position).in_(list(positions)),
                    col(row.state).in_([STARTING, PLANNED, PARKED]),
                )
                .values(
                    state=PARKED,
                    not_before=not_before,
                    started_at=None,
                    updated_at=self._now(),
                    # A refused send never reached Constant Contact: it is no attempt.
                    attempts=sa.case(
                        (col(row.state) == STARTING, row.attempts - 1), else_=row.attempts
                    ),
                )
            )

    def parked_due(self, limit: int = 50) -> list[str]:
        """Jobs not ended with a part parked whose time has come, oldest first."""
        due = (
            select(JobActivityRow.job_id)
            .where(
                col(JobActivityRow.state) == PARKED,
                col(JobActivityRow.not_before) <= self._now(),
            )
            .distinct()
        )
        query = (
            select(JobRow.id)
            .where(col(JobRow.ended_at).is_(None), col(JobRow.id).in_(due))
            .order_by(col(JobRow.created_at))
            .limit(limit)
        )
        with self._read() as session:
            return list(session.exec(query).all())

    def in_doubt(self, job_id: str, position: int, state: str = UNKNOWN) -> None:
        """Part `position`, sent and unanswered, is settled as `state`: `unknown` when
        Constant Contact's list cannot tell, `planned` when it shows it did not run."""
        with self._store.write() as session:
            session.execute(
                self._part_update(job_id, position, STARTING).values(
                    state=state, updated_at=self._now()
                )
            )

    def claim_launch(self, job_id: str, seconds: float) -> bool:
        """Take a job over from a launcher that is gone (or to settle a part in doubt): True
        for one process only."""
        now = self._now()
        free = sa.or_(col(JobRow.launch_until).is_(None), col(JobRow.launch_until) < now)
        with self._store.write() as session:
            result = session.execute(
                sa.update(JobRow)
                .where(col(JobRow.id) == job_id, col(JobRow.ended_at).is_(None), free)
                .values(launch_until=now + timedelta(seconds=seconds), updated_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def to_settle(self, window: timedelta, limit: int = 50) -> list[str]:
        """Jobs whose launcher is gone, or with a part in doubt for longer than `window`."""
        now = self._now()
        doubtful = (
            select(JobActivityRow.job_id)
            .where(
                col(JobActivityRow.state) == STARTING,
                col(JobActivityRow.started_at) < now - window,
            )
            .distinct()
        )
        query = (
            select(JobRow.id)
            .where(
                col(JobRow.ended_at).is_(None),
                sa.or_(col(JobRow.launch_until) < now, col(JobRow.id).in_(doubtful)),
            )
            .order_by(col(JobRow.created_at))
            .limit(limit)
        )
        with self._read() as session:
            return list(session.exec(query).all())

    def forget(self, job_id: str) -> None:
        """A plan of one step once its activity is tracked on its own: no job to follow."""
        with self._store.write() as session:
            session.execute(sa.delete(JobActivityRow).where(col(JobActivityRow.job_id) == job_id))
            session.execute(sa.delete(JobRow).where(col(JobRow.id) == job_id))

    def launched(self, job_id: str) -> None:
        """Every part was tried (those still `planned` failed to start and never will)."""
        self._update_job(job_id, state=LAUNCHED, launch_until=None)

    def observe_activities(self, job_id: str, seen: dict[str, PartSeen]) -> None:
        """Record what Constant Contact said of several parts, by their activity ids."""
        now = self._now()
        with self._store.write() as session:
            for activity_id, part in seen.items():
                values = part.model_dump()
                values["activity_errors"] = json.dumps(part.activity_errors)
                session.execute(
                    sa.update(JobActivityRow)
                    .where(
                        col(JobActivityRow.job_id) == job_id,
                        col(JobActivityRow.activity_id) == activity_id,
                    )
                    .values(**values, updated_at=now)
                )
            session.execute(
                sa.update(JobRow).where(col(JobRow.id) == job_id).values(updated_at=now)
            )

    def end(self, job_id: str) -> bool:
        """The job is over (every part terminal, or given up): True the first time only."""
        now = self._now()
        with self._store.write() as session:
            result = session.execute(
                sa.update(JobRow)
                .where(col(JobRow.id) == job_id, col(JobRow.ended_at).is_(None))
                .values(state=ENDED, ended_at=now, updated_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def end_posted(self, job_id: str, ts: str) -> bool:
        """The end is in the thread as message `ts`: True the first time only."""
        with self._store.write() as session:
            result = session.execute(
                sa.update(JobRow)
                .where(col(JobRow.id) == job_id, col(JobRow.end_posted).is_(False))
                .values(end_posted=True, end_ts=ts, updated_at=self._now())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def job_of_activity(self, activity_id: str) -> str | None:
        with self._read() as session:
            query = select(JobActivityRow.job_id).where(
                col(JobActivityRow.activity_id) == activity_id
            )
            return session.exec(query).first()

    def unfinished(self, limit: int = 200) -> list[Job]:
        """Jobs not ended, oldest first (what a poller follows)."""
        with self._read() as session:
            ids = session.exec(
                select(JobRow.id)
                .where(col(JobRow.ended_at).is_(None))
                .order_by(col(JobRow.created_at))
                .limit(limit)
            ).all()
        return [job for job in (self.get(i) for i in ids) if job is not None]

    def recent(self, workspace_id: str, limit: int = 10) -> list[Job]:
        with self._read() as session:
            ids = session.exec(
                select(JobRow.id)
                .where(col(JobRow.workspace_id) == workspace_id)
                .order_by(col(JobRow.created_at).desc())
                .limit(limit)
            ).all()
        return [job for job in (self.get(i) for i in ids) if job is not None]

    @staticmethod
    def _part_update(job_id: str, position: int, was: str | None = None) -> Any:
        """An update of the job's part `position`, only while it is `was` (None: whatever its
        state): the compare-and-set every move of a part is."""
        where = [col(JobActivityRow.job_id) == job_id, col(JobActivityRow.position) == position]
        if was is not None:
            where.append(col(JobActivityRow.state) == was)
        return sa.update(JobActivityRow).where(*where)

    def _update_job(self, job_id: str, **values: Any) -> None:
        with self._store.write() as session:
            session.execute(
                sa.update(JobRow)
                .where(col(JobRow.id) == job_id)
                .values(**values, updated_at=self._now())
            )


__all__: Sequence[str] = ["Job", "JobPart", "JobStore", "NewJob", "PartSeen", "StepSpec"]
