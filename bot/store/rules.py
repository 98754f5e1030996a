"""Rules: a command line on a schedule, and how its runs went.

A run is leased like an activity's poll (`claim_due`: FOR UPDATE SKIP LOCKED, an expiry for a
dead worker), so each due run is taken by one worker whatever their number; `ran` records it
and moves `next_run_at` on, only while the lease is held. The schema is made by the alembic
migrations `w008_rules` and
`w013_rule_approvals`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, SQLModel, col, select

from bot.store.repository import Repository
from bot.store.tables import _when


class RuleRow(SQLModel, table=True):
    __tablename__ = "rule"
    __table_args__ = (
        sa.Index("ix_rule_workspace", "workspace_id", "id"),
        sa.Index("ix_rule_due", "paused", "next_run_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    creator_id: str = Field(max_length=64)
    schedule: str = Field(max_length=64)  # `every monday at 09:00`, as bot.usecases.rules reads
    tz: str = Field(max_length=64)  # the creator's Slack time zone (IANA name)
    line: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # the command it runs
    summary: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    cost: int = Field(default=0)  # API calls a run is expected to spend
    paused: bool = Field(default=False)
    paused_why: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    failures: int = Field(default=0)  # runs failed in a row
    next_run_at: datetime = _when(nullable=False)
    last_run_at: datetime | None = _when()
    last_result: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_expires_at: datetime | None = _when()
    # Who approved it (a line its creator could not run alone): its runs go through as approved.
    approved_by: str | None = Field(default=None, max_length=64)
    approved_at: datetime | None = _when()


class NewRule(BaseModel):
    workspace_id: str
    channel_id: str
    creator_id: str
    schedule: str
    tz: str
    line: str
    summary: str
    cost: int
    next_run_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None


class Rule(NewRule):
    id: int
    paused: bool
    paused_why: str | None
    failures: int
    last_run_at: datetime | None
    last_result: str | None
    created_at: datetime
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None


class RunRecord(BaseModel):
    """How a run ended: `result` in words; `failed` counts towards pausing; `next_run_at` the
    next one; `pause` says why it pauses itself (None: it goes on)."""

    result: str
    failed: bool
    next_run_at: datetime
    cost: int | None = None
    pause: str | None = None


def _rule(row: RuleRow) -> Rule:
    return Rule.model_validate(row.model_dump())


class RuleStore(Repository):
    """Every method is one transaction and answers pydantic models."""

    def create(self, new: NewRule) -> Rule:
        now = self._now()
        row = RuleRow(**new.model_dump(), created_at=now, updated_at=now)
        with self._store.write() as session:
            session.add(row)
            session.flush()
            return _rule(row)

    def get(self, workspace_id: str, rule_id: int) -> Rule | None:
        """The rule, only in its own workspace."""
        with self._read() as session:
            row = session.get(RuleRow, rule_id)
            return _rule(row) if row is not None and row.workspace_id == workspace_id else None

    def of_workspace(self, workspace_id: str, limit: int = 100) -> list[Rule]:
        query = (
            select(RuleRow)
            .where(col(RuleRow.workspace_id) == workspace_id)
            .order_by(col(RuleRow.id))
            .limit(limit)
        )
        with self._read() as session:
            return [_rule(row) for row in session.exec(query)]

    def set_paused(
        self,
        workspace_id: str,
        rule_id: int,
        paused: bool,
        *,
        why: str | None = None,
        next_run_at: datetime | None = None,
    ) -> Rule | None:
        """Pause (with why) or resume (failures forgiven, from `next_run_at` on)."""
        values: dict[str, Any] = {"paused": paused, "paused_why": why if paused else None}
        if not paused:
            values["failures"] = 0
        if next_run_at is not None:
            values["next_run_at"] = next_run_at
        self._update(workspace_id, rule_id, **values)
        return self.get(workspace_id, rule_id)

    def delete(self, workspace_id: str, rule_id: int) -> bool:
        with self._store.write() as session:
            result = session.execute(
                sa.delete(RuleRow).where(
                    col(RuleRow.id) == rule_id, col(RuleRow.workspace_id) == workspace_id
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def claim_due(self, owner: str, lease_seconds: float, limit: int = 20) -> list[Rule]:
        """Lease the rules whose run is due (not paused, not leased by a live worker)."""
        now = self._now()
        free = sa.or_(col(RuleRow.lease_expires_at).is_(None), col(RuleRow.lease_expires_at) <= now)
        query = (
            select(RuleRow)
            .where(col(RuleRow.paused).is_(False), col(RuleRow.next_run_at) <= now, free)
            .order_by(col(RuleRow.next_run_at), col(RuleRow.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self._store.write() as session:
            rows = session.exec(query).all()
            for row in rows:
                row.lease_owner = owner
                row.lease_expires_at = now + timedelta(seconds=lease_seconds)
                session.add(row)
            session.flush()
            return [_rule(row) for row in rows]

    def ran(self, rule_id: int, owner: str, record: RunRecord) -> bool:
        """Record a run and let go of the lease; False when the lease was lost meanwhile."""
        now = self._now()
        values: dict[str, Any] = {
            "last_run_at": now,
            "last_result": record.result,
            "next_run_at": record.next_run_at,
            "failures": RuleRow.failures + 1 if record.failed else 0,
            "lease_owner": None,
            "lease_expires_at": None,
            "updated_at": now,
        }
        if record.cost is not None:
            values["cost"] = record.cost
        if record.pause is not None:
            values |= {"paused": True, "paused_why": record.pause}
        with self._store.write() as session:
            result = session.execute(
                sa.update(RuleRow)
                .where(col(RuleRow.id) == rule_id, col(RuleRow.lease_owner) == owner)
                .values(**values)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def next_due_at(self) -> datetime | None:
        """When the earliest active rule may be claimed (its run due, or its lease ending)."""
        from bot.store.store import _aware

        active = col(RuleRow.paused).is_(False)
        with self._read() as session:
            free_due = session.exec(
                select(sa.func.min(RuleRow.next_run_at)).where(
                    active, col(RuleRow.lease_owner).is_(None)
                )
            ).one()
            leased = session.exec(
                select(sa.func.min(RuleRow.lease_expires_at)).where(
                    active, col(RuleRow.lease_owner).is_not(None)
                )
            ).one()
        found = [_aware(moment) for moment in (free_due, leased) if moment is not None]
        return min(found) if found else None

    def _update(self, workspace_id: str, rule_id: int, **values: Any) -> None:
        with self._store.write() as session:
            session.execute(
                sa.update(RuleRow)
                .where(col(RuleRow.id) == rule_id, col(RuleRow.workspace_id) == workspace_id)
                .values(**values, updated_at=self._now())
            )


__all__: Sequence[str] = ["NewRule", "Rule", "RuleStore", "RunRecord"]
