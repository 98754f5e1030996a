"""Constant Contact connections, their one-time OAuth2 states, and per-workspace policy.

Tokens and PKCE verifiers arrive here already encrypted (bot.crypto.TokenCipher); OAuth2
`state` values are kept as their SHA-256 only. The schema is made by the alembic migrations
`w001_workspaces` and `w003_connection_broken`; these are the same tables for queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlmodel import SQLModel

from bot.clock import Clock
from bot.store.engine import IMMEDIATE
from bot.store.tables import UTCDateTime

TOKEN_ENDPOINT_SPACING = timedelta(seconds=1.05)  # the token endpoint allows 1 request a second
_GATE_ID = 1

metadata = SQLModel.metadata

cc_connection = sa.Table(
    "cc_connection",
    metadata,
    sa.Column("workspace_id", sa.String(64), primary_key=True),
    sa.Column("account_name", sa.String(255), nullable=True),
    sa.Column("access_token_enc", sa.Text(), nullable=False),
    sa.Column("refresh_token_enc", sa.Text(), nullable=True),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("connected_by", sa.String(64), nullable=False),
    sa.Column("connected_at", UTCDateTime(), nullable=False),
    sa.Column("refreshed_at", UTCDateTime(), nullable=True),
    sa.Column("broken_at", UTCDateTime(), nullable=True),
    sa.Column("broken_reason", sa.Text(), nullable=True),
    extend_existing=True,
)

cc_oauth_state = sa.Table(
    "cc_oauth_state",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("workspace_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("verifier_enc", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime(), nullable=True),
    extend_existing=True,
)

cc_token_gate = sa.Table(
    "cc_token_gate",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("last_request_at", UTCDateTime(), nullable=True),
    extend_existing=True,
)

workspace_policy = sa.Table(
    "workspace_policy",
    metadata,
    sa.Column("workspace_id", sa.String(64), primary_key=True),
    sa.Column("admin_users", sa.Text(), nullable=True),
    sa.Column("admin_usergroup", sa.String(64), nullable=True),
    sa.Column("allowed_channels", sa.Text(), nullable=True),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    extend_existing=True,
)


@dataclass(frozen=True)
class StoredConnection:
    """A workspace's connected account; the token fields hold ciphertext."""

    workspace_id: str
    account_name: str | None
    access_token_enc: str
    refresh_token_enc: str | None
    expires_at: datetime | None
    connected_by: str
    connected_at: datetime
    refreshed_at: datetime | None = None
    # Set when Constant Contact refused the refresh token; connecting again clears it.
    broken_at: datetime | None = None
    broken_reason: str | None = None

    @property
    def is_broken(self) -> bool:
        return self.broken_at is not None


class StateCheck(StrEnum):
    ACCEPTED = "accepted"
    UNKNOWN = "unknown"  # never issued (forged), or purged long after it expired
    EXPIRED = "expired"
    USED = "used"  # a replayed callback


@dataclass(frozen=True)
class TakenState:
    check: StateCheck
    workspace_id: str = ""
    user_id: str = ""
    verifier_enc: str = ""


@dataclass(frozen=True)
class StoredPolicy:
    """One workspace's policy; a None field falls back to the environment's default."""

    workspace_id: str
    admin_users: str | None
    admin_usergroup: str | None
    allowed_channels: str | None
    updated_by: str
    updated_at: datetime


def _connection(row: sa.RowMapping) -> StoredConnection:
    return StoredConnection(**{f.name: row[f.name] for f in fields(StoredConnection)})


class HeldConnection:
    """A connection row locked for one transaction: read, wait for the token endpoint, save."""

    def __init__(self, db: Connection, row: StoredConnection | None, clock: Clock) -> None:
        self._db = db
        self.row = row
        self._clock = clock

    def wait_for_token_slot(self) -> None:
        """Take the one token-endpoint slot all processes share (1 request a second)."""
        _wait_for_token_slot(self._db, self._clock)

    def save_tokens(
        self, access_token_enc: str, refresh_token_enc: str | None, expires_at: datetime | None
    ) -> None:
        if self.row is None:
            raise LookupError("the connection was removed")
        values = {
            "access_token_enc": access_token_enc,
            "refresh_token_enc": refresh_token_enc,
            "expires_at": expires_at,
            "refreshed_at": self._clock.now(),
        }
        self._db.execute(
            cc_connection.update()
            .where(cc_connection.c.workspace_id == self.row.workspace_id)
            .values(**values)
        )

    def mark_broken(self, reason: str) -> None:
        """Constant Contact refused the refresh token: no one may use these tokens again."""
        if self.row is None:
            return
        self._db.execute(
            cc_connection.update()
            .where(cc_connection.c.workspace_id == self.row.workspace_id)
            .values(broken_at=self._clock.now(), broken_reason=reason[:1000])
        )


def _wait_for_token_slot(db: Connection, clock: Clock) -> None:
    gate = cc_token_gate.c
    last = db.execute(
        sa.select(gate.last_request_at).where(gate.id == _GATE_ID).with_for_update()
    ).scalar_one_or_none()
    if last is not None:
        wait = (last + TOKEN_ENDPOINT_SPACING - clock.now()).total_seconds()
        clock.sleep(wait)
    db.execute(
        cc_token_gate.update().where(gate.id == _GATE_ID).values(last_request_at=clock.now())
    )


class ConnectionRepository:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        # BEGIN IMMEDIATE on SQLite (the Store's engine honours this option): writers queue.
        self._writer = engine.execution_options(**{IMMEDIATE: True})
        self._clock = clock

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._writer.begin() as db:
            yield db

    # ------------------------------------------------------------------ connections
    def get(self, workspace_id: str) -> StoredConnection | None:
        query = cc_connection.select().where(cc_connection.c.workspace_id == workspace_id)
        with self._engine.connect() as db:
            row = db.execute(query).mappings().first()
        return _connection(row) if row is not None else None

    def save(self, connection: StoredConnection) -> None:
        """Connect the workspace, replacing any earlier connection."""
        values: dict[str, Any] = {f.name: getattr(connection, f.name) for f in fields(connection)}
        key = cc_connection.c.workspace_id == connection.workspace_id
        with self._write() as db:
            db.execute(cc_connection.delete().where(key))
            db.execute(cc_connection.insert().values(**values))

    def delete(self, workspace_id: str) -> bool:
        with self._write() as db:
            result = db.execute(
                cc_connection.delete().where(cc_connection.c.workspace_id == workspace_id)
            )
        return bool(result.rowcount)

    @contextmanager
    def locked(self, workspace_id: str) -> Iterator[HeldConnection]:
        """The workspace's row, locked until the block ends (FOR UPDATE / BEGIN IMMEDIATE).

        Two processes refreshing one account queue here; the second reads the tokens the
        first saved and so never spends a refresh token already used.
        """
        query = (
            cc_connection.select()
            .where(cc_connection.c.workspace_id == workspace_id)
            .with_for_update()
        )
        with self._write() as db:
            row = db.execute(query).mappings().first()
            yield HeldConnection(db, _connection(row) if row is not None else None, self._clock)

    @contextmanager
    def token_slot(self) -> Iterator[None]:
        """Hold the shared token-endpoint slot for one request outside a connection lock."""
        with self._write() as db:
            _wait_for_token_slot(db, self._clock)
            yield

    # ------------------------------------------------------------------ OAuth2 states
    def add_state(
        self,
        state_hash: str,
        workspace_id: str,
        user_id: str,
        verifier_enc: str,
        expires_at: datetime,
    ) -> None:
        now = self._clock.now()
        with self._write() as db:
            # States that ended a day ago are no longer needed to tell a replay from a forgery.
            db.execute(
                cc_oauth_state.delete().where(cc_oauth_state.c.expires_at < now - timedelta(days=1))
            )
            db.execute(
                cc_oauth_state.insert().values(
                    state_hash=state_hash,
                    workspace_id=workspace_id,
                    user_id=user_id,
                    verifier_enc=verifier_enc,
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    def take_state(self, state_hash: str) -> TakenState:
        """Use a state once: the first caller gets ACCEPTED, every later one USED."""
        now = self._clock.now()
        c = cc_oauth_state.c
        with self._write() as db:
            claimed = db.execute(
                cc_oauth_state.update()
                .where(c.state_hash == state_hash, c.used_at.is_(None), c.expires_at > now)
                .values(used_at=now)
            ).rowcount
            row = db.execute(cc_oauth_state.select().where(c.state_hash == state_hash)).first()
        if row is None:
            return TakenState(StateCheck.UNKNOWN)
        if claimed:
            return TakenState(StateCheck.ACCEPTED, row.workspace_id, row.user_id, row.verifier_enc)
        if row.used_at is not None:
            return TakenState(StateCheck.USED, row.workspace_id, row.user_id)
        return TakenState(StateCheck.EXPIRED, row.workspace_id, row.user_id)

    # ------------------------------------------------------------------ policy
    def get_policy(self, workspace_id: str) -> StoredPolicy | None:
        query = workspace_policy.select().where(workspace_policy.c.workspace_id == workspace_id)
        with self._engine.connect() as db:
            row = db.execute(query).mappings().first()
        if row is None:
            return None
        return StoredPolicy(**{f.name: row[f.name] for f in fields(StoredPolicy)})

    def set_policy(self, policy: StoredPolicy) -> None:
        values = {f.name: getattr(policy, f.name) for f in fields(policy)}
        key = workspace_policy.c.workspace_id == policy.workspace_id
        with self._write() as db:
            db.execute(workspace_policy.delete().where(key))
            db.execute(workspace_policy.insert().values(**values))
