"""Approval requests in the store: one decision however many ask at once, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.store import Store
from bot.store.approvals import APPROVING, DENIED, EXPIRED, PENDING, ApprovalStore, NewApproval


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    found = Store(database_url, clock=FakeClock())
    found.upgrade()
    yield found
    found.close()


def _new(store: Store, requester: str = "UPLAIN") -> NewApproval:
    return NewApproval(
        workspace_id="T1",
        requester_id=requester,
        channel_id="C1",
        action="contacts_tags_delete",
        summary="delete tags “VIP”",
        preview="You asked to *delete tags “VIP”*.",
        line='delete "VIP"',
        form=None,
        fingerprint="[]",
        expires_at=store.clock.now() + timedelta(hours=24),
    )


def test_eight_deciders_at_once_make_one_decision(store: Store) -> None:
    requests = ApprovalStore(store)
    approval = requests.create(_new(store))
    won: list[str] = []
    barrier = threading.Barrier(8)

    def decide(user: str, state: str) -> None:
        barrier.wait()
        if requests.decide(approval.id, state, user, reason="no" if state == DENIED else None):
            won.append(user)

    threads = [
        threading.Thread(target=decide, args=(f"U{n}", APPROVING if n % 2 else DENIED))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [winner] = won
    decided = requests.get(approval.id)
    assert decided is not None and decided.decided_by == winner
    assert decided.state in (APPROVING, DENIED) and decided.decided_at == store.clock.now()


def test_due_and_pending_lists(store: Store) -> None:
    requests = ApprovalStore(store)
    mine = requests.create(_new(store))
    theirs = requests.create(_new(store, "UOTHER"))
    assert [a.id for a in requests.pending("T1", "UPLAIN")] == [mine.id]
    assert {a.id for a in requests.pending("T1")} == {mine.id, theirs.id}
    assert requests.due(store.clock.now()) == []
    later = store.clock.now() + timedelta(hours=24)
    assert {a.id for a in requests.due(later)} == {mine.id, theirs.id}
    assert requests.decide(mine.id, EXPIRED, None)
    assert not requests.decide(mine.id, EXPIRED, None)
    assert [a.id for a in requests.due(later)] == [theirs.id]
    assert requests.get(theirs.id.upper()) is not None  # typed in any case
    found = requests.get(theirs.id)
    assert found is not None and found.state == PENDING
