"""Slack installations (one per workspace and installer) and Slack's OAuth2 install states.

An installation is kept as one encrypted JSON document (bot and user tokens inside), with the
ids it is looked up by in clear. Install states are kept as their SHA-256 only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import SQLModel

from bot.store.engine import IMMEDIATE
from bot.store.tables import UTCDateTime

metadata = SQLModel.metadata

slack_installation = sa.Table(
    "slack_installation",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("enterprise_id", sa.String(64), nullable=True),
    sa.Column("team_id", sa.String(64), nullable=True),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
    sa.Column("has_bot", sa.Boolean(), nullable=False),
    sa.Column("installed_at", UTCDateTime(), nullable=False),
    sa.Column("document_enc", sa.Text(), nullable=False),
    extend_existing=True,
)

slack_oauth_state = sa.Table(
    "slack_oauth_state",
    metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    extend_existing=True,
)


@dataclass(frozen=True)
class InstallationKey:
    client_id: str
    enterprise_id: str | None
    team_id: str | None


@dataclass(frozen=True)
class StoredInstallation:
    key: InstallationKey
    user_id: str
    is_enterprise_install: bool
    has_bot: bool
    installed_at: datetime
    document_enc: str


def _equal_or_null(column: sa.Column[str], value: str | None) -> sa.ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _matching(key: InstallationKey) -> sa.ColumnElement[bool]:
    c = slack_installation.c
    return sa.and_(
        c.client_id == key.client_id,
        _equal_or_null(c.enterprise_id, key.enterprise_id),
        _equal_or_null(c.team_id, key.team_id),
    )


class InstallationRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{IMMEDIATE: True})

    def add(self, installation: StoredInstallation) -> None:
        with self._writer.begin() as db:
            db.execute(
                slack_installation.insert().values(
                    client_id=installation.key.client_id,
                    enterprise_id=installation.key.enterprise_id,
                    team_id=installation.key.team_id,
                    user_id=installation.user_id,
                    is_enterprise_install=installation.is_enterprise_install,
                    has_bot=installation.has_bot,
                    installed_at=installation.installed_at,
                    document_enc=installation.document_enc,
                )
            )

    def latest_document(
        self, key: InstallationKey, *, user_id: str | None = None, with_bot: bool = False
    ) -> str | None:
        """The newest installation's encrypted document matching the ids, if any."""
        c = slack_installation.c
        query = sa.select(c.document_enc).where(_matching(key))
        if user_id is not None:
            query = query.where(c.user_id == user_id)
        if with_bot:
            query = query.where(c.has_bot.is_(True))
        query = query.order_by(c.installed_at.desc(), c.id.desc()).limit(1)
        with self._engine.connect() as db:
            return db.execute(query).scalar_one_or_none()

    def delete(
        self, key: InstallationKey, *, user_id: str | None = None, bots_only: bool = False
    ) -> None:
        c = slack_installation.c
        statement = slack_installation.delete().where(_matching(key))
        if user_id is not None:
            statement = statement.where(c.user_id == user_id)
        if bots_only:
            statement = statement.where(c.has_bot.is_(True))
        with self._writer.begin() as db:
            db.execute(statement)

    # ------------------------------------------------------------------ install states
    def add_state(self, state_hash: str, expires_at: datetime, now: datetime) -> None:
        with self._writer.begin() as db:
            db.execute(slack_oauth_state.delete().where(slack_oauth_state.c.expires_at < now))
            db.execute(
                slack_oauth_state.insert().values(state_hash=state_hash, expires_at=expires_at)
            )

    def consume_state(self, state_hash: str, now: datetime) -> bool:
        """True once for a state issued and not yet expired; False ever after."""
        c = slack_oauth_state.c
        with self._writer.begin() as db:
            deleted = db.execute(
                slack_oauth_state.delete().where(c.state_hash == state_hash, c.expires_at > now)
            ).rowcount
        return bool(deleted)
