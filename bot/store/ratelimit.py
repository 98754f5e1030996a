"""The API key's request budget shared by every process through the database.

The key's row holds the next free request slot (seconds since the epoch), the UTC day's count
and the part of it made for people waiting; `rate_share` holds each workspace's use of the day,
`rate_waiter` the background calls waiting for a slot. Each try locks the key's row (SELECT ...
FOR UPDATE on PostgreSQL, a BEGIN IMMEDIATE transaction on SQLite), reads the rest, lets
bot/cc/budget.py decide, writes back what changed, and waits for its slot outside the
transaction, so web and poller processes together keep to 4 requests a second, fairly.

Slots are spaced a little wider than 1/rate (`headroom`, 20%): a process may send a granted
call late (a busy CPU) and requests reach the API with varying latency, so a server counting a
sliding second would otherwise see a fifth request inside the first one's second now and then.
Five calls span 1/(1 - headroom) s, so a call may arrive that much late less one second without
a 429. With two pollers in bench/poller.py, 5% (50 ms of slack) let a 429 through in 4 runs of 6
and 10% (111 ms) in none of 12, but 10% let one through in CI on a busy two-core machine, in
tests/slack/test_budget.py. 20% allows a quarter second, for 3.2 calls a second at most: the
day's 10,000 calls, not the second's pace, are what bounds a big job.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.cc.budget import HEADROOM, BudgetState, Limits, Share, SharedBudget, Waiter
from bot.clock import SYSTEM_CLOCK, Clock
from bot.store.store import Store, key_hash
from bot.store.tables import RateShareRow, RateWaiterRow


class DatabaseState:
    """bot.cc.budget.StateHolder: the key's budget in the database, locked while open."""

    def __init__(self, store: Store, api_key: str) -> None:
        self._store = store
        self._api_key = api_key
        self._digest = key_hash(api_key)

    @contextmanager
    def open(self) -> Iterator[BudgetState]:
        with self._store.rate_budget_row(self._api_key) as row:
            # The row's session is the Store's open write transaction (a sqlmodel Session).
            session = cast(Session, Session.object_session(row))
            state = BudgetState(row.day, row.next_slot, row.calls, row.person_calls)
            state.shares = self._shares(session)
            state.waiters = self._waiters(session)
            before = copy.deepcopy(state)
            yield state
            row.day, row.next_slot = state.day, state.next_slot
            row.calls, row.person_calls = state.calls, state.person_calls
            self._save_shares(session, before.shares, state.shares)
            self._save_waiters(session, before.waiters, state.waiters)

    def _shares(self, session: Session) -> dict[str, Share]:
        rows = session.exec(select(RateShareRow).where(RateShareRow.key_hash == self._digest))
        return {
            r.workspace_id: Share(r.workspace_id, r.calls, r.background, r.vtime, r.wanted_at)
            for r in rows
        }

    def _waiters(self, session: Session) -> dict[str, Waiter]:
        rows = session.exec(select(RateWaiterRow).where(RateWaiterRow.key_hash == self._digest))
        return {r.id: Waiter(r.id, r.workspace_id, r.priority, r.since, r.seen) for r in rows}

    def _save_shares(
        self, session: Session, before: dict[str, Share], after: dict[str, Share]
    ) -> None:
        for name, share in after.items():
            if before.get(name) == share:
                continue
            session.merge(
                RateShareRow(
                    key_hash=self._digest,
                    workspace_id=name,
                    calls=share.calls,
                    background=share.background,
                    vtime=share.vtime,
                    wanted_at=share.wanted_at,
                )
            )

    def _save_waiters(
        self, session: Session, before: dict[str, Waiter], after: dict[str, Waiter]
    ) -> None:
        gone = [waiter_id for waiter_id in before if waiter_id not in after]
        if gone:
            session.exec(delete(RateWaiterRow).where(col(RateWaiterRow.id).in_(gone)))
        for waiter_id, w in after.items():
            if before.get(waiter_id) == w:
                continue
            session.merge(
                RateWaiterRow(
                    id=w.id,
                    key_hash=self._digest,
                    workspace_id=w.workspace,
                    priority=w.priority,
                    since=w.since,
                    seen=w.seen,
                )
            )


class DatabaseRateLimiter(SharedBudget):
    """bot.cc.ports.RateLimiter, coordinated through the database (bot/cc/budget.py's policy)."""

    def __init__(
        self,
        store: Store,
        api_key: str,
        rate_per_second: float = 4.0,
        daily_quota: int = 10_000,
        clock: Clock = SYSTEM_CLOCK,
        headroom: float = HEADROOM,
        reserve: float = 0.2,
    ) -> None:
        limits = Limits(rate_per_second, daily_quota, reserve, headroom)
        super().__init__(DatabaseState(store, api_key), limits, clock)
