"""Approval requests: a plan frozen as previewed, waiting for someone with the right.

A request is decided once: every decision is a conditional UPDATE from `pending`, so two
clicks at once (one approver or two, two processes) make exactly one decision. The schema is
made by the alembic migration `w010_approvals`.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel, col, select

from bot.store.repository import Repository
from bot.store.tables import _when

PENDING = "pending"
APPROVING = "approving"  # approved, its plan being checked and started
APPROVED = "approved"  # its plan started
STALE = "stale"  # approved, but its plan went stale: nothing ran
FAILED = "failed"  # approved, but its plan could not start
DENIED = "denied"
EXPIRED = "expired"


class ApprovalRow(SQLModel, table=True):
    __tablename__ = "approval_request"
    __table_args__ = (
        sa.Index("ix_approval_workspace_state", "workspace_id", "state"),
        sa.Index("ix_approval_state_expires", "state", "expires_at"),
    )

    id: str = Field(primary_key=True, max_length=16)
    workspace_id: str = Field(max_length=64)
    requester_id: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)  # where the plan runs once approved
    action: str = Field(max_length=64)
    summary: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    preview: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    line: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    form: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    fingerprint: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    posts: str = Field(default="[]", sa_column=sa.Column(sa.Text(), nullable=False))
    state: str = Field(max_length=16)
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = _when()
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))


class NewApproval(BaseModel):
    workspace_id: str
    requester_id: str
    channel_id: str
    action: str
    summary: str
    preview: str
    line: str | None
    form: str | None
    fingerprint: str
    expires_at: datetime


class Approval(NewApproval):
    id: str
    state: str
    created_at: datetime
    posts: list[tuple[str, str]] = PydanticField(default_factory=list)  # (conversation, ts)
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


def _approval(row: ApprovalRow) -> Approval:
    data = row.model_dump()
    data["posts"] = [tuple(post) for post in json.loads(row.posts or "[]")]
    return Approval.model_validate(data)


class ApprovalStore(Repository):
    """Every method is one transaction and answers pydantic models."""

    def create(self, new: NewApproval) -> Approval:
        """Pending, under a short id a person can type (`approve <id>`)."""
        approval_id = secrets.token_hex(4)
        with self._store.write() as session:
            session.add(
                ApprovalRow(
                    id=approval_id,
                    **new.model_dump(),
                    state=PENDING,
                    created_at=self._store.clock.now(),
                )
            )
        found = self.get(approval_id)
        assert found is not None
        return found

    def get(self, approval_id: str) -> Approval | None:
        with self._read() as session:
            row = session.get(ApprovalRow, approval_id.strip().lower()[:16])
            return _approval(row) if row is not None else None

    def set_posts(self, approval_id: str, posts: list[tuple[str, str]]) -> None:
        with self._store.write() as session:
            session.execute(
                sa.update(ApprovalRow)
                .where(col(ApprovalRow.id) == approval_id)
                .values(posts=json.dumps(posts))
            )

    def decide(
        self,
        approval_id: str,
        state: str,
        by: str | None,
        *,
        reason: str | None = None,
        was: str = PENDING,
    ) -> bool:
        """From `was` to `state`, by `by`, now: True for one caller only."""
        with self._store.write() as session:
            values: dict[str, object] = {"state": state}
            if was == PENDING:
                values |= {"decided_by": by, "decided_at": self._store.clock.now()}
            if reason is not None:
                values["reason"] = reason
            result = session.execute(
                sa.update(ApprovalRow)
                .where(col(ApprovalRow.id) == approval_id, col(ApprovalRow.state) == was)
                .values(**values)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def due(self, now: datetime, limit: int = 100) -> list[Approval]:
        """Pending requests past their expiry, oldest first."""
        with self._read() as session:
            rows = session.exec(
                select(ApprovalRow)
                .where(col(ApprovalRow.state) == PENDING, col(ApprovalRow.expires_at) <= now)
                .order_by(col(ApprovalRow.expires_at))
                .limit(limit)
            ).all()
            return [_approval(row) for row in rows]

    def pending(
        self, workspace_id: str, requester_id: str | None = None, limit: int = 20
    ) -> list[Approval]:
        """A workspace's pending requests (one requester's, when given), oldest first."""
        with self._read() as session:
            query = select(ApprovalRow).where(
                col(ApprovalRow.workspace_id) == workspace_id, col(ApprovalRow.state) == PENDING
            )
            if requester_id is not None:
                query = query.where(col(ApprovalRow.requester_id) == requester_id)
            rows = session.exec(query.order_by(col(ApprovalRow.created_at)).limit(limit)).all()
            return [_approval(row) for row in rows]
