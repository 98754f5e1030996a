"""The contact index: each account's contacts by lower-cased email, shared by every process.

Filled by paging `GET /contacts?limit=500&status=all` and kept fresh with `updated_after`
(bot/usecases/people.py decides when); here only the tables and their reads and writes.
Rows are keyed by (account, contact id), not by email: an email may move from one contact to
another (a deleted contact and a new one with its address), and a contact may change address.
The schema is made by the alembic migration `w004_contact_index`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col, select

from bot.store.repository import Repository
from bot.store.tables import _when

# The account key of single-account mode (AccountClient.account_key is None there).
DEFAULT_ACCOUNT = "default"
# Rows per upsert statement: 500 rows of 6 columns stays far below SQLite's 32,766 variables,
# and a page of the API (500 contacts) is one statement.
UPSERT_BATCH = 500
# Emails per `IN (...)` look-up, for the same reason.
LOOKUP_BATCH = 900


class ContactIndexRow(SQLModel, table=True):
    __tablename__ = "contact_index"
    __table_args__ = (sa.Index("ix_contact_index_email", "account_key", "email"),)

    account_key: str = Field(primary_key=True, max_length=128)
    contact_id: str = Field(primary_key=True, max_length=64)
    email: str = Field(max_length=320)
    # permission_to_send as Constant Contact says it, or "deleted".
    status: str = Field(max_length=32)
    updated_at: datetime | None = _when()
    seen_at: datetime = _when(nullable=False)
    # The contact's tag ids and list ids, comma-joined (each at most 50): who carries a tag or
    # is on a list is known without a call (revision w009).
    taggings: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False, default=""))
    list_memberships: str = Field(
        default="", sa_column=sa.Column(sa.Text(), nullable=False, default="")
    )


class ContactIndexSyncRow(SQLModel, table=True):
    __tablename__ = "contact_index_sync"

    account_key: str = Field(primary_key=True, max_length=128)
    # When the last complete full sync started: the index held every contact as of then.
    full_sync_at: datetime | None = _when()
    # When the last complete refresh (full or updated_after) started: fresh as of then.
    refreshed_at: datetime | None = _when()
    # The `updated_after` of the next refresh.
    watermark: datetime | None = _when()
    contacts: int = Field(default=0)


@dataclass(frozen=True)
class IndexedContact:
    email: str
    contact_id: str
    status: str
    updated_at: datetime | None
    tags: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncState:
    account_key: str
    full_sync_at: datetime | None
    refreshed_at: datetime | None
    watermark: datetime | None
    contacts: int


def account_key_of(account_key: str | None) -> str:
    return DEFAULT_ACCOUNT if account_key is None else account_key


class ContactIndex(Repository):
    """Reads and writes of the index tables, each in its own transaction."""

    def sync_state(self, account_key: str) -> SyncState | None:
        with self._read() as session:
            row = session.get(ContactIndexSyncRow, account_key)
            return None if row is None else self._state(row)

    def upsert(
        self, account_key: str, contacts: Iterable[IndexedContact], seen_at: datetime
    ) -> int:
        """Insert or update contacts (by id); answers how many rows were written."""
        rows = [
            {
                "account_key": account_key,
                "contact_id": c.contact_id,
                "email": c.email,
                "status": c.status,
                "updated_at": c.updated_at,
                "seen_at": seen_at,
                "taggings": ",".join(c.tags),
                "list_memberships": ",".join(c.lists),
            }
            for c in contacts
        ]
        insert = postgresql.insert if self._store.is_postgres else sqlite.insert
        for start in range(0, len(rows), UPSERT_BATCH):
            statement = insert(ContactIndexRow)
            statement = statement.on_conflict_do_update(
                index_elements=["account_key", "contact_id"],
                set_={
                    name: statement.excluded[name]
                    for name in (
                        "email",
                        "status",
                        "updated_at",
                        "seen_at",
                        "taggings",
                        "list_memberships",
                    )
                },
            )
            with self._store.write() as session:
                session.execute(statement, rows[start : start + UPSERT_BATCH])
        return len(rows)

    def finish_full_sync(
        self, account_key: str, started_at: datetime, watermark: datetime
    ) -> SyncState:
        """Every contact was paged since `started_at`: rows not seen since are gone from CC."""
        with self._store.write() as session:
            session.execute(
                sa.delete(ContactIndexRow).where(
                    col(ContactIndexRow.account_key) == account_key,
                    col(ContactIndexRow.seen_at) < started_at,
                )
            )
            count = session.exec(
                select(sa.func.count()).where(col(ContactIndexRow.account_key) == account_key)
            ).one()
            row = session.get(ContactIndexSyncRow, account_key) or ContactIndexSyncRow(
                account_key=account_key
            )
            row.full_sync_at, row.refreshed_at = started_at, started_at
            row.watermark, row.contacts = watermark, int(count)
            session.add(row)
        return self._state(row)

    def finish_refresh(
        self, account_key: str, started_at: datetime, watermark: datetime
    ) -> SyncState | None:
        """An `updated_after` refresh started at `started_at` is in; None without a full sync."""
        with self._store.write() as session:
            row = session.get(ContactIndexSyncRow, account_key)
            if row is None:
                return None
            count = session.exec(
                select(sa.func.count()).where(col(ContactIndexRow.account_key) == account_key)
            ).one()
            if row.refreshed_at is None or started_at > row.refreshed_at:
                row.refreshed_at = started_at
            if row.watermark is None or watermark > row.watermark:
                row.watermark = watermark
            row.contacts = int(count)
            session.add(row)
        return self._state(row)

    def lookup(self, account_key: str, emails: Sequence[str]) -> dict[str, list[IndexedContact]]:
        """The indexed contacts of each lower-cased email found (several when one was deleted)."""
        found: dict[str, list[IndexedContact]] = {}
        with self._read() as session:
            for start in range(0, len(emails), LOOKUP_BATCH):
                chunk = list(emails[start : start + LOOKUP_BATCH])
                query = select(ContactIndexRow).where(
                    col(ContactIndexRow.account_key) == account_key,
                    col(ContactIndexRow.email).in_(chunk),
                )
                for row in session.exec(query):
                    found.setdefault(row.email, []).append(_contact(row))
        return found

    def carrying(
        self, account_key: str, *, tag_id: str | None = None, list_id: str | None = None
    ) -> dict[str, IndexedContact]:
        """The indexed contacts (any status) carrying the tag, or on the list, by contact id."""
        column, wanted = (
            (col(ContactIndexRow.taggings), tag_id)
            if tag_id
            else (col(ContactIndexRow.list_memberships), list_id)
        )
        if not wanted:
            raise ValueError("name a tag or a list")
        query = select(ContactIndexRow).where(
            col(ContactIndexRow.account_key) == account_key,
            column.contains(wanted, autoescape=True),
        )
        with self._read() as session:
            found = (_contact(row) for row in session.exec(query))
            ids = "tags" if tag_id else "lists"
            return {c.contact_id: c for c in found if wanted in getattr(c, ids)}

    def by_ids(self, account_key: str, contact_ids: Sequence[str]) -> dict[str, IndexedContact]:
        """The indexed contacts of these ids (lower-cased UUIDs) that the index holds."""
        found: dict[str, IndexedContact] = {}
        with self._read() as session:
            for start in range(0, len(contact_ids), LOOKUP_BATCH):
                chunk = list(contact_ids[start : start + LOOKUP_BATCH])
                query = select(ContactIndexRow).where(
                    col(ContactIndexRow.account_key) == account_key,
                    col(ContactIndexRow.contact_id).in_(chunk),
                )
                found.update((row.contact_id, _contact(row)) for row in session.exec(query))
        return found

    def size(self, account_key: str) -> int:
        with self._read() as session:
            query = select(sa.func.count()).where(col(ContactIndexRow.account_key) == account_key)
            return int(session.exec(query).one())

    def forget(self, account_key: str) -> None:
        """Drop an account's index (e.g. when its connection changes to another account)."""
        with self._store.write() as session:
            session.execute(
                sa.delete(ContactIndexRow).where(col(ContactIndexRow.account_key) == account_key)
            )
            session.execute(
                sa.delete(ContactIndexSyncRow).where(
                    col(ContactIndexSyncRow.account_key) == account_key
                )
            )

    @staticmethod
    def _state(row: ContactIndexSyncRow) -> SyncState:
        return SyncState(
            row.account_key, row.full_sync_at, row.refreshed_at, row.watermark, row.contacts
        )


def _ids(joined: str) -> tuple[str, ...]:
    return tuple(part for part in joined.split(",") if part)


def _contact(row: ContactIndexRow) -> IndexedContact:
    return IndexedContact(
        row.email,
        row.contact_id,
        row.status,
        row.updated_at,
        _ids(row.taggings),
        _ids(row.list_memberships),
    )
