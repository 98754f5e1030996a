"""The one way into the database: tracked activities, Slack post intents, audit, keys, locks.

Every method opens and closes its own transaction and answers plain pydantic models.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.clock import SYSTEM_CLOCK, Clock
from bot.store.engine import IMMEDIATE, make_engine, normalize_url, upgrade
from bot.store.models import (
    AuditEntry,
    NewActivity,
    Observation,
    Poll,
    Settlement,
    SlackPost,
    TrackedActivity,
)
from bot.store.tables import (
    AuditRow,
    IdempotencyKeyRow,
    NamedLockRow,
    RateBudgetRow,
    SavedLineRow,
    SlackPostRow,
    TrackedActivityRow,
)

PENDING = "pending"
POSTED = "posted"
SKIPPED = "skipped"


def key_hash(api_key: str) -> str:
    """API keys are stored as their SHA-256, never in clear."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def _tracked(row: TrackedActivityRow) -> TrackedActivity:
    data = row.model_dump()
    data["activity_errors"] = json.loads(row.activity_errors or "[]")
    return TrackedActivity.model_validate(data)


def _post(row: SlackPostRow) -> SlackPost:
    return SlackPost.model_validate(row.model_dump())


def _audit(row: AuditRow) -> AuditEntry:
    return AuditEntry.model_validate(row.model_dump())


class Store:
    def __init__(self, database_url: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.database_url = normalize_url(database_url)
        self.clock = clock
        self.engine = make_engine(database_url)
        self._writer = self.engine.execution_options(**{IMMEDIATE: True})

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    # ------------------------------------------------------------------ plumbing
    def upgrade(self) -> None:
        """alembic upgrade head."""
        upgrade(self.engine)

    def healthy(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # any failure means: not usable
            return False

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed on leaving."""
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            yield session

    def _now(self) -> datetime:
        return self.clock.now()

    # ------------------------------------------------------------------ keys and audit
    def claim_once(self, key: str) -> bool:
        """True the first time `key` is claimed, False ever after (a unique insert)."""
        try:
            with self.write() as session:
                session.add(IdempotencyKeyRow(key=key, claimed_at=self._now()))
            return True
        except IntegrityError:
            return False

    def audit(
        self, *, workspace_id: str, user_id: str, action: str, detail: str, outcome: str
    ) -> None:
        row = AuditRow(
            workspace_id=workspace_id,
            user_id=user_id,
            action=action,
            detail=detail,
            outcome=outcome,
            at=self._now(),
        )
        with self.write() as session:
            session.add(row)

    def audit_log(self, workspace_id: str, limit: int = 50) -> list[AuditEntry]:
        query = (
            select(AuditRow)
            .where(AuditRow.workspace_id == workspace_id)
            .order_by(col(AuditRow.at).desc(), col(AuditRow.id).desc())
            .limit(limit)
        )
        with self._read() as session:
            return [_audit(row) for row in session.exec(query)]

    def save_line(self, workspace_id: str, user_id: str, line: str) -> str:
        """Keep a request line (too long for a button) until it is answered; answers its id."""
        line_id = str(uuid.uuid4())
        row = SavedLineRow(
            id=line_id,
            workspace_id=workspace_id,
            user_id=user_id,
            line=line,
            created_at=self._now(),
        )
        with self.write() as session:
            session.add(row)
        return line_id

    def saved_line(self, workspace_id: str, user_id: str, line_id: str) -> str | None:
        """The line saved by this person in this workspace, or None."""
        with self._read() as session:
            row = session.get(SavedLineRow, line_id)
            if row is None or (row.workspace_id, row.user_id) != (workspace_id, user_id):
                return None
            return row.line

    def calls_today(self, api_key: str) -> int:
        """API calls counted today (UTC) against the key's daily quota."""
        with self._read() as session:
            row = session.get(RateBudgetRow, key_hash(api_key))
            today = self._now().date().isoformat()
            return row.calls if row is not None and row.day == today else 0

    # ------------------------------------------------------------------ tracked activities
    def track_activity(self, new: NewActivity) -> TrackedActivity:
        """Start following an activity; tracking the same one again answers the first record."""
        existing = self.get_tracked(new.workspace_id, new.activity_id)
        if existing is not None:
            return existing
        now = self._now()
        row = TrackedActivityRow(
            **new.model_dump(),
            created_at=now,
            updated_at=now,
            next_poll_at=now,
        )
        try:
            with self.write() as session:
                session.add(row)
                session.flush()
                return _tracked(row)
        except IntegrityError:
            found = self.get_tracked(new.workspace_id, new.activity_id)
            if found is None:
                raise
            return found

    def get_tracked(self, workspace_id: str, activity_id: str) -> TrackedActivity | None:
        query = select(TrackedActivityRow).where(
            TrackedActivityRow.workspace_id == workspace_id,
            TrackedActivityRow.activity_id == activity_id,
        )
        with self._read() as session:
            row = session.exec(query).first()
            return _tracked(row) if row is not None else None

    def get_tracked_by_id(self, tracked_id: int) -> TrackedActivity | None:
        with self._read() as session:
            row = session.get(TrackedActivityRow, tracked_id)
            return _tracked(row) if row is not None else None

    def recent_activities(self, workspace_id: str, limit: int = 10) -> list[TrackedActivity]:
        query = (
            select(TrackedActivityRow)
            .where(TrackedActivityRow.workspace_id == workspace_id)
            .order_by(col(TrackedActivityRow.created_at).desc(), col(TrackedActivityRow.id).desc())
            .limit(limit)
        )
        with self._read() as session:
            return [_tracked(row) for row in session.exec(query)]

    def tracked_of_job(self, job_id: str) -> list[TrackedActivity]:
        query = (
            select(TrackedActivityRow)
            .where(col(TrackedActivityRow.job_id) == job_id)
            .order_by(col(TrackedActivityRow.id))
        )
        with self._read() as session:
            return [_tracked(row) for row in session.exec(query)]

    def in_flight_count(self) -> int:
        query = select(func.count()).where(col(TrackedActivityRow.ended_at).is_(None))
        with self._read() as session:
            return int(session.exec(query).one())

    # ------------------------------------------------------------------ leases (poller)
    def renew_lease(self, tracked_id: int, owner: str, lease_seconds: float) -> bool:
        """Extend our lease; False when another poller has taken the row over meanwhile."""
        expires = self._now() + timedelta(seconds=lease_seconds)
        return self._update_leased(tracked_id, owner, lease_expires_at=expires)

    def observe_all(self, owner: str, polls: Sequence[Poll]) -> dict[int, list[SlackPost]]:
        """Record several polls in one transaction, each only while we hold its lease.

        Each poll's intents are stored `pending` (an intent already there is kept as it is).
        Answers, for each activity recorded, its posts as they are now; an activity whose lease
        another poller took over is left out.
        """
        if not polls:
            return {}
        now = self._now()
        recorded: list[int] = []
        intents: list[dict[str, Any]] = []
        with self.write() as session:
            for poll in polls:
                values = self._observed(poll.seen, poll.next_poll_at, poll.poll_interval, now)
                if poll.release:
                    values |= {"lease_owner": None, "lease_expires_at": None}
                statement = self._leased(poll.tracked_id, owner).values(**values)
                if not session.execute(statement).rowcount:  # type: ignore[attr-defined]
                    continue
                recorded.append(poll.tracked_id)
                intents += [
                    {
                        "tracked_id": poll.tracked_id,
                        "key": key,
                        "status": PENDING,
                        "owner": owner,
                        "created_at": now,
                    }
                    for key in poll.intents
                ]
            if intents:
                insert = postgresql.insert if self.is_postgres else sqlite.insert
                session.execute(
                    insert(SlackPostRow).on_conflict_do_nothing(
                        index_elements=["tracked_id", "key"]
                    ),
                    intents,
                )
            return self._posts_in(session, recorded)

    def settle(self, owner: str, settlements: Sequence[Settlement]) -> None:
        """Record how the Slack work of several activities ended, in one transaction."""
        if not settlements:
            return
        now = self._now()
        with self.write() as session:
            for done in settlements:
                for key, ts in done.posted.items():
                    self._confirm(session, done.tracked_id, key, ts, now)
                for key in done.skipped:
                    self._skip(session, done.tracked_id, key)
                values: dict[str, Any] = {}
                if done.parent_updated:
                    values["parent_updated"] = True
                if done.finish:
                    values |= {"ended_at": now, "gave_up": done.gave_up}
                if done.finish or done.release:
                    values |= {"lease_owner": None, "lease_expires_at": None}
                    if done.next_poll_at is not None and not done.finish:
                        values["next_poll_at"] = done.next_poll_at
                if values:
                    session.execute(self._leased(done.tracked_id, owner).values(**values))

    def posts_of(self, tracked_ids: Sequence[int]) -> dict[int, list[SlackPost]]:
        """The posts of several activities (each in the order they were meant), in one read."""
        with self._read() as session:
            return self._posts_in(session, tracked_ids)

    def _posts_in(self, session: Session, tracked_ids: Sequence[int]) -> dict[int, list[SlackPost]]:
        found: dict[int, list[SlackPost]] = {tracked_id: [] for tracked_id in tracked_ids}
        if not found:
            return found
        query = (
            select(SlackPostRow)
            .where(col(SlackPostRow.tracked_id).in_(list(found)))
            .order_by(col(SlackPostRow.id))
        )
        for row in session.exec(query):
            found[row.tracked_id].append(_post(row))
        return found

    def _observed(
        self, seen: Observation, next_poll_at: datetime, poll_interval: float, now: datetime
    ) -> dict[str, Any]:
        return {
            "state": seen.state,
            "percent_done": seen.percent_done,
            "items_total_count": seen.items_total_count,
            "items_completed_count": seen.items_completed_count,
            "list_count": seen.list_count,
            "activity_errors": json.dumps(seen.activity_errors),
            "updated_at": now,
            "next_poll_at": next_poll_at,
            "poll_interval": poll_interval,
            "poll_count": TrackedActivityRow.poll_count + 1,
        }

    def _leased(self, tracked_id: int, owner: str) -> Any:
        return update(TrackedActivityRow).where(
            col(TrackedActivityRow.id) == tracked_id,
            col(TrackedActivityRow.lease_owner) == owner,
        )

    def _update_leased(self, tracked_id: int, owner: str, **values: Any) -> bool:
        statement = self._leased(tracked_id, owner).values(**values)
        with self.write() as session:
            return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def next_due_at(self) -> datetime | None:
        """When the earliest unfinished activity may be claimed (a poll due, or a lease ending)."""
        unfinished = col(TrackedActivityRow.ended_at).is_(None)
        with self._read() as session:
            free_due = session.exec(
                select(func.min(TrackedActivityRow.next_poll_at)).where(
                    unfinished, col(TrackedActivityRow.lease_owner).is_(None)
                )
            ).one()
            leased = session.exec(
                select(func.min(TrackedActivityRow.lease_expires_at)).where(
                    unfinished, col(TrackedActivityRow.lease_owner).is_not(None)
                )
            ).one()
        found = [_aware(moment) for moment in (free_due, leased) if moment is not None]
        return min(found) if found else None

    # ------------------------------------------------------------------ Slack post intents
    def get_post(self, tracked_id: int, key: str) -> SlackPost | None:
        query = select(SlackPostRow).where(
            SlackPostRow.tracked_id == tracked_id, SlackPostRow.key == key
        )
        with self._read() as session:
            row = session.exec(query).first()
            return _post(row) if row is not None else None

    def intend_post(self, tracked_id: int, key: str, owner: str) -> SlackPost:
        """Record, before posting, that reply `key` is about to be posted (once per key)."""
        existing = self.get_post(tracked_id, key)
        if existing is not None:
            return existing
        row = SlackPostRow(
            tracked_id=tracked_id, key=key, status=PENDING, owner=owner, created_at=self._now()
        )
        try:
            with self.write() as session:
                session.add(row)
                session.flush()
                return _post(row)
        except IntegrityError:
            found = self.get_post(tracked_id, key)
            if found is None:
                raise
            return found

    def _confirm(self, session: Session, tracked_id: int, key: str, ts: str, now: datetime) -> None:
        session.execute(
            update(SlackPostRow)
            .where(col(SlackPostRow.tracked_id) == tracked_id, col(SlackPostRow.key) == key)
            .values(status=POSTED, ts=ts, posted_at=now)
        )
        if key == "progress":
            session.execute(
                update(TrackedActivityRow)
                .where(col(TrackedActivityRow.id) == tracked_id)
                .values(progress_ts=ts)
            )

    def _skip(self, session: Session, tracked_id: int, key: str) -> None:
        session.execute(
            update(SlackPostRow)
            .where(
                col(SlackPostRow.tracked_id) == tracked_id,
                col(SlackPostRow.key) == key,
                col(SlackPostRow.status) == PENDING,
            )
            .values(status=SKIPPED)
        )

    # ------------------------------------------------------------------ rate budget rows
    @contextmanager
    def rate_budget_row(self, api_key: str) -> Iterator[RateBudgetRow]:
        """The key's budget row, locked for this transaction (FOR UPDATE / BEGIN IMMEDIATE)."""
        today = self._now().date().isoformat()
        digest = key_hash(api_key)
        with self.write() as session:
            row = session.exec(
                select(RateBudgetRow).where(RateBudgetRow.key_hash == digest).with_for_update()
            ).first()
            if row is None:
                row = self._insert_budget_row(session, digest, today)
            yield row
            session.add(row)

    def _insert_budget_row(self, session: Session, digest: str, today: str) -> RateBudgetRow:
        # Two processes may insert the first row at once; the loser reads the winner's row.
        savepoint = session.begin_nested()
        try:
            session.add(RateBudgetRow(key_hash=digest, next_slot=0.0, day=today, calls=0))
            savepoint.commit()
        except IntegrityError:
            savepoint.rollback()
        row = session.exec(
            select(RateBudgetRow).where(RateBudgetRow.key_hash == digest).with_for_update()
        ).one()
        return row

    # ------------------------------------------------------------------ cross-process lock
    @contextmanager
    def refresh_lock(self, name: str, timeout: float = 60.0) -> Iterator[None]:
        """Serialize OAuth token refresh for `name` across processes.

        PostgreSQL: a session advisory lock held on a dedicated connection. SQLite: a lock row
        with an expiry (an open immediate transaction would block the very write that saves
        the new token from another connection, so a row is used instead).
        """
        if self.is_postgres:
            with self._advisory_lock(name):
                yield
        else:
            with self._row_lock(name, timeout):
                yield

    @contextmanager
    def _advisory_lock(self, name: str) -> Iterator[None]:
        lock_key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key})
                connection.commit()

    @contextmanager
    def _row_lock(self, name: str, timeout: float) -> Iterator[None]:
        owner = uuid.uuid4().hex
        while not self._try_row_lock(name, owner, timeout):
            self.clock.sleep(0.05)
        try:
            yield
        finally:
            with self.write() as session:
                row = session.get(NamedLockRow, name)
                if row is not None and row.owner == owner:
                    session.delete(row)

    def _try_row_lock(self, name: str, owner: str, timeout: float) -> bool:
        now = self._now()
        with self.write() as session:
            row = session.get(NamedLockRow, name)
            if row is not None and row.expires_at > now:
                return False
            row = row or NamedLockRow(name=name, owner=owner, expires_at=now)
            row.owner, row.expires_at = owner, now + timedelta(seconds=timeout)
            session.add(row)
            return True

    # ------------------------------------------------------------------ poller: Slack refusals
    def withdraw_intent(self, tracked_id: int, key: str, owner: str) -> bool:
        """Slack refused the post outright, so nothing was posted: drop the pending intent.

        The next poll then posts afresh instead of reading the thread back (1 read a minute).
        Only while we hold the lease: another poller's intent is not ours to drop.
        """
        with self.write() as session:
            held = session.exec(
                select(TrackedActivityRow.id).where(
                    col(TrackedActivityRow.id) == tracked_id,
                    col(TrackedActivityRow.lease_owner) == owner,
                )
            ).first()
            if held is None:
                return False
            session.execute(
                delete(SlackPostRow).where(
                    col(SlackPostRow.tracked_id) == tracked_id,
                    col(SlackPostRow.key) == key,
                    col(SlackPostRow.status) == PENDING,
                )
            )
            return True

    def abandon_thread(
        self, tracked_id: int, owner: str, *, slack_error: str, posted: dict[str, str]
    ) -> bool:
        """Slack will not take this thread's replies: finish the activity (no more polls).

        `posted` confirms the replies that did reach the thread before the refusal.
        """
        now = self._now()
        values = {
            "ended_at": now,
            "gave_up": True,
            "slack_error": slack_error,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        with self.write() as session:
            if not session.execute(self._leased(tracked_id, owner).values(**values)).rowcount:  # type: ignore[attr-defined]
                return False
            for key, ts in posted.items():
                self._confirm(session, tracked_id, key, ts, now)
            return True

    def claim_workspace_due(
        self, owner: str, lease_seconds: float, *, exclude: Collection[str] = (), limit: int = 200
    ) -> list[TrackedActivity]:
        """Lease the most overdue free activity with every other free one of its workspace.

        Rows are picked with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL (inside a BEGIN
        IMMEDIATE transaction on SQLite), so two pollers never lease the same row. A workspace
        where another poller holds rows is not passed over: a dead poller's lease holds back
        its own activities only, until it expires (the price is one more list call when two
        live pollers share a workspace's new activities).
        """
        now = self._now()
        free = or_(
            col(TrackedActivityRow.lease_expires_at).is_(None),
            col(TrackedActivityRow.lease_expires_at) <= now,
        )
        unfinished = col(TrackedActivityRow.ended_at).is_(None)
        claimable = select(TrackedActivityRow).where(unfinished, free)
        with self.write() as session:
            first_query = claimable.where(col(TrackedActivityRow.next_poll_at) <= now)
            if exclude:
                first_query = first_query.where(
                    col(TrackedActivityRow.workspace_id).not_in(exclude)
                )
            first = session.exec(
                first_query.order_by(
                    col(TrackedActivityRow.next_poll_at), col(TrackedActivityRow.id)
                )
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if first is None:
                return []
            companions = session.exec(
                claimable.where(
                    col(TrackedActivityRow.workspace_id) == first.workspace_id,
                    col(TrackedActivityRow.id) != first.id,
                )
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            rows = [first, *companions]
            expires = now + timedelta(seconds=lease_seconds)
            for row in rows:
                row.lease_owner, row.lease_expires_at = owner, expires
                session.add(row)
            session.flush()
            return [_tracked(row) for row in rows]

    def note_requester_dm(self, tracked_id: int, channel: str) -> None:
        """The `D…` id Slack answered when the requester was told by DM (for later edits)."""
        with self.write() as session:
            session.execute(
                update(TrackedActivityRow)
                .where(col(TrackedActivityRow.id) == tracked_id)
                .values(requester_dm=channel)
            )


def _aware(moment: Any) -> datetime:
    """Aggregates bypass the column type on SQLite: parse and mark as UTC."""
    from datetime import UTC

    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


__all__: Sequence[str] = ["Store"]
