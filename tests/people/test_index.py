"""The contact index tables on SQLite and PostgreSQL: batched upserts, look-ups, full syncs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FakeClock
from bot.store import Store
from bot.store.contact_index import ContactIndex, IndexedContact

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def index(database_url: str) -> Iterator[ContactIndex]:
    store = Store(database_url, clock=FakeClock(start=T0))
    store.upgrade()
    try:
        yield ContactIndex(store)
    finally:
        store.close()


def contact(number: int, status: str = "implicit") -> IndexedContact:
    return IndexedContact(f"contact{number}@example.com", f"id-{number}", status, T0)


def test_fifty_thousand_contacts_load_and_five_thousand_are_found(index: ContactIndex) -> None:
    everyone = [contact(n, "unsubscribed" if n % 10 == 0 else "explicit") for n in range(50_000)]
    assert index.upsert("acct", everyone, T0) == 50_000
    index.finish_full_sync("acct", T0, T0)
    wanted = [f"contact{n}@example.com" for n in range(0, 50_000, 10)] + ["nobody@example.com"]
    found = index.lookup("acct", wanted)
    assert len(found) == 5_000 and "nobody@example.com" not in found
    assert found["contact10@example.com"] == [contact(10, "unsubscribed")]
    state = index.sync_state("acct")
    assert state is not None and state.contacts == 50_000 and state.full_sync_at == T0
    assert index.sync_state("another") is None and index.lookup("another", wanted) == {}


def test_a_full_sync_drops_what_it_did_not_see_and_follows_changed_addresses(
    index: ContactIndex,
) -> None:
    index.upsert("acct", [contact(1), contact(2), contact(3)], T0)
    index.finish_full_sync("acct", T0, T0)
    later = T0 + timedelta(days=1)
    moved = IndexedContact("new-address@example.com", "id-1", "implicit", later)
    index.upsert("acct", [moved, contact(2, "unsubscribed")], later)  # id-3 is gone
    state = index.finish_full_sync("acct", later, later - timedelta(minutes=2))
    assert state.contacts == 2 and state.watermark == later - timedelta(minutes=2)
    found = index.lookup(
        "acct", ["contact1@example.com", "new-address@example.com", "contact3@example.com"]
    )
    assert found == {"new-address@example.com": [moved]}
    assert index.lookup("acct", ["contact2@example.com"])["contact2@example.com"][0].status == (
        "unsubscribed"
    )


def test_a_refresh_never_moves_the_watermark_back_and_needs_a_full_sync_first(
    index: ContactIndex,
) -> None:
    assert index.finish_refresh("acct", T0, T0) is None
    index.finish_full_sync("acct", T0, T0)
    ahead = index.finish_refresh("acct", T0 + timedelta(minutes=5), T0 + timedelta(minutes=3))
    behind = index.finish_refresh("acct", T0 + timedelta(minutes=1), T0)
    assert ahead is not None and behind is not None
    assert behind.watermark == T0 + timedelta(minutes=3)
    assert behind.refreshed_at == T0 + timedelta(minutes=5)
    index.forget("acct")
    assert index.sync_state("acct") is None and index.size("acct") == 0
