"""The base of the store's rooms: a leaf, so that the tables can import the rooms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

if TYPE_CHECKING:
    from bot.store.store import Store


class Repository:
    """One room of the store (jobs, rules, approvals, records, the contact index) over its
    engine and clock; each of its methods is one transaction."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._store.engine) as session:
            yield session

    def _now(self) -> datetime:
        return self._store.clock.now()
