"""Emails → contacts for min(E, a sync) calls, over real HTTP against the sandbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from bot.cc.client import CCApi
from bot.cc.errors import QuotaExhausted
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.store import Store
from bot.store.contact_index import ContactIndex, IndexedContact
from bot.usecases.people import (
    FRESH_FOR,
    FULL_RESYNC_AFTER,
    ContactResolver,
    Resolution,
    ResolveMethod,
)
from tests.support.people import World, make_world


@pytest.fixture
def world(sb: SandboxServer, http: httpx.Client, database_url: str) -> Iterator[World]:
    yield from make_world(sb, http, database_url, contacts=1_200)


def spent(world: World, resolve: object) -> int:
    before = world.contact_calls()
    assert callable(resolve)
    resolve()
    return world.contact_calls() - before


def test_many_emails_on_a_cold_index_cost_one_sync_then_nothing(world: World) -> None:
    subscribed, unsubscribed = world.subscribed()[:700], world.unsubscribed()[:40]
    deleted = world.deleted()[:10]
    assert len(unsubscribed) == 40 and len(deleted) == 10
    unknown = ["nobody@example.org", "Ghost@Example.com"]
    asked = [e.upper() for e in subscribed[:5]] + subscribed[5:] + unsubscribed + deleted + unknown
    before = world.contact_calls()

    cold = world.resolver.resolve(world.client, asked, account_key="acct")

    assert cold.method == ResolveMethod.SYNC
    assert cold.calls == world.contact_calls() - before == 3  # 1,200 contacts, 500 a page
    assert cold.found == {e: world.id_of(e) for e in subscribed}
    assert list(cold.found) == subscribed  # the order asked, lower-cased
    assert [(s.email, s.contact_id, s.reason) for s in cold.skipped] == [
        (e, world.id_of(e), "unsubscribed") for e in unsubscribed
    ] + [(e, world.id_of(e), "deleted") for e in deleted]
    assert cold.not_found == ["nobody@example.org", "ghost@example.com"]

    warm = world.resolver.resolve(world.client, asked, account_key="acct")
    assert warm.calls == 0 and world.contact_calls() - before == 3
    assert (warm.found, warm.skipped, warm.not_found) == (cold.found, cold.skipped, cold.not_found)
    assert warm.method == ResolveMethod.INDEX


def test_a_stale_index_is_refreshed_with_updated_after_in_one_call(world: World) -> None:
    first, second = world.subscribed()[:2]
    world.resolver.resolve(world.client, world.subscribed(), account_key="acct")
    world.unsubscribe(first)
    newcomer = world.add_contact("newcomer@example.net")

    unchanged = world.resolver.resolve(
        world.client, [first, "newcomer@example.net"], account_key="acct"
    )
    assert unchanged.calls == 0  # within FRESH_FOR the index answers as it is, and says so
    assert first in unchanged.found and unchanged.not_found == ["newcomer@example.net"]

    world.clock.advance(FRESH_FOR.total_seconds() + 1)
    before = world.contact_calls()
    fresh = world.resolver.resolve(
        world.client, [first, second, "NEWCOMER@example.net"], account_key="acct"
    )
    assert fresh.calls == world.contact_calls() - before == 1
    assert fresh.method == ResolveMethod.INDEX
    assert fresh.found == {second: world.id_of(second), "newcomer@example.net": newcomer}
    assert [(s.email, s.reason) for s in fresh.skipped] == [(first, "unsubscribed")]
    assert fresh.fresh_as_of == world.clock.now()


def test_a_single_email_on_a_cold_index_is_one_look_up(world: World) -> None:
    email = world.subscribed()[7]
    before = world.contact_calls()
    one = world.resolver.resolve(world.client, [email.upper()], account_key=None)
    assert one.method == ResolveMethod.LOOKUPS
    assert one.calls == world.contact_calls() - before == 1
    assert one.found == {email: world.id_of(email)}
    assert ContactIndex(world.store).sync_state("default") is None  # no sync for one email


def test_emails_all_on_the_first_page_cost_that_page_alone(world: World) -> None:
    early = [c.email for c in world.account.contacts.values()][:10]
    before = world.contact_calls()
    few = world.resolver.resolve(world.client, early, account_key="acct")
    assert few.calls == world.contact_calls() - before == 1  # not 10 look-ups, not 3 pages
    assert sorted([*few.found, *(s.email for s in few.skipped)]) == sorted(early)


def test_emails_missing_from_the_first_page_cost_the_rest_of_the_sync_when_cheaper(
    world: World,
) -> None:
    late = [c.email for c in world.account.contacts.values()][-2:]
    before = world.contact_calls()
    few = world.resolver.resolve(world.client, [*late, "unknown@example.org"], account_key="acct")
    # The first page (500 of 1,200) held none of the 3: looking them up would cost 3 more
    # calls, the 2 pages left cost 2, so the sync goes on.
    assert few.calls == world.contact_calls() - before == 3
    assert few.method == ResolveMethod.SYNC
    assert world.resolver.resolve(world.client, late, account_key="acct").calls == 0


def test_emails_missing_from_the_first_page_are_looked_up_when_cheaper(
    sb: SandboxServer, http: httpx.Client, database_url: str
) -> None:
    for world in make_world(sb, http, database_url, contacts=2_000):
        emails = [c.email for c in world.account.contacts.values()]
        early, late = emails[:3], emails[-2:]
        before = world.contact_calls()
        few = world.resolver.resolve(world.client, [*early, *late], account_key="acct")
        # 4 pages in all; the first held 3 of the 5, and 2 look-ups cost less than 3 pages.
        assert few.calls == world.contact_calls() - before == 3
        assert few.method == ResolveMethod.LOOKUPS
        assert few.not_found == []
        for email in [*early, *late]:
            if email in world.unsubscribed() + world.deleted():
                assert [s.email for s in few.skipped].count(email) == 1
            else:
                assert few.found[email] == world.id_of(email)
        # That was no full sync: the index is still cold.
        assert world.resolver.estimate_calls(5, account_key="acct") == 5


def test_an_expired_index_serves_few_emails_by_look_ups(world: World) -> None:
    world.resolver.resolve(world.client, world.subscribed(), account_key="acct")
    world.clock.advance(FULL_RESYNC_AFTER.total_seconds() + 1)
    pair = world.subscribed()[:2]
    before = world.contact_calls()
    assert world.resolver.estimate_calls(2, account_key="acct") == 2
    looked = world.resolver.resolve(world.client, pair, account_key="acct")
    assert looked.method == ResolveMethod.LOOKUPS
    assert looked.calls == world.contact_calls() - before == 2
    # More emails than a sync costs: a full resync (3 calls), not 4 look-ups.
    four = world.subscribed()[:4]
    before = world.contact_calls()
    resynced = world.resolver.resolve(world.client, four, account_key="acct")
    assert resynced.method == ResolveMethod.SYNC
    assert resynced.calls == world.contact_calls() - before == 3


def test_another_process_uses_the_index_one_process_filled(world: World, database_url: str) -> None:
    world.resolver.resolve(world.client, world.subscribed(), account_key="acct")
    other_store = Store(database_url, clock=world.clock)
    try:
        other = ContactResolver(other_store, clock=world.clock)
        before = world.contact_calls()
        shared = other.resolve(world.client, world.subscribed()[:100], account_key="acct")
        assert shared.calls == world.contact_calls() - before == 0
        assert len(shared.found) == 100
        # Another account's key shares nothing: its index is cold.
        assert other.estimate_calls(100, account_key="other-account") == 100
    finally:
        other_store.close()


def test_a_deleted_contact_is_never_taken_for_a_live_one_with_its_address(world: World) -> None:
    index = ContactIndex(world.store)
    now = world.clock.now()
    index.upsert(
        "acct",
        [
            IndexedContact("again@example.com", "old-id", "deleted", now),
            IndexedContact("again@example.com", "new-id", "implicit", now),
            IndexedContact("gone@example.com", "gone-id", "deleted", now),
        ],
        now,
    )
    index.finish_full_sync("acct", now, now)
    answer = world.resolver.resolve(
        world.client, ["again@example.com", "gone@example.com"], account_key="acct"
    )
    assert answer.calls == 0
    assert answer.found == {"again@example.com": "new-id"}
    assert [(s.email, s.contact_id, s.reason) for s in answer.skipped] == [
        ("gone@example.com", "gone-id", "deleted")
    ]


def test_an_interrupted_sync_leaves_the_index_cold_and_the_next_one_starts_over(
    world: World,
) -> None:
    spent_budget = TokenBucketLimiter(rate_per_second=1e6, daily_quota=2, clock=FakeClock())
    api = CCApi(world.sb.base_url, spent_budget, clock=world.clock)
    short = api.for_account(StaticTokens(world.token), "x")
    emails = world.subscribed()[-10:]  # past the first page: the sync goes on
    with pytest.raises(QuotaExhausted):
        world.resolver.resolve(short, emails, account_key="acct")  # 2 of its 3 pages
    assert world.resolver.estimate_calls(10, account_key="acct") == 10  # still cold
    before = world.contact_calls()
    again = world.resolver.resolve(world.client, emails, account_key="acct")
    assert again.method == ResolveMethod.SYNC
    assert again.calls == world.contact_calls() - before == 3
    assert again.found == {e: world.id_of(e) for e in emails}


def test_two_processes_resolving_on_a_cold_index_sync_it_once(
    world: World, database_url: str
) -> None:
    other_store = Store(database_url, clock=world.clock)
    resolvers = [world.resolver, ContactResolver(other_store, clock=world.clock)]
    emails = world.subscribed()[-600:]
    start = threading.Barrier(2)
    answers: list[Resolution] = []

    def resolve(resolver: ContactResolver) -> None:
        start.wait()
        answers.append(resolver.resolve(world.client, emails, account_key="acct"))

    before = world.contact_calls()
    try:
        threads = [threading.Thread(target=resolve, args=(r,)) for r in resolvers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other_store.close()
    assert world.contact_calls() - before == 3  # one sync of 3 pages, not two
    assert sorted(a.calls for a in answers) == [0, 3]
    assert answers[0].found == answers[1].found and len(answers[0].found) > 500


def test_look_ups_send_the_email_lower_cased_with_every_status(
    sb: SandboxServer, database_url: str
) -> None:
    sent: list[httpx.URL] = []
    with httpx.Client(event_hooks={"request": [lambda request: sent.append(request.url)]}) as http:
        for world in make_world(sb, http, database_url, contacts=50):
            email = world.subscribed()[0]
            world.resolver.resolve(world.client, [f"  {email.upper()} "], account_key=None)
    assert [(url.path, url.params.get("email"), url.params.get("status")) for url in sent] == [
        ("/v3/contacts", email, "all")
    ]


class AskedClock:
    """The shared FakeClock, telling when its resolver first asked the time (its request)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.asked = threading.Event()

    def monotonic(self) -> float:
        return self.clock.monotonic()

    def now(self) -> datetime:
        self.asked.set()
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        self.clock.sleep(seconds)


def resolve_together(
    world: World, resolvers: list[ContactResolver], emails: list[str]
) -> list[Resolution]:
    answers: list[Resolution] = []

    def resolve(resolver: ContactResolver) -> None:
        answers.append(resolver.resolve(world.client, emails, account_key="acct"))

    threads = [threading.Thread(target=resolve, args=(r,)) for r in resolvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_a_slow_sync_another_process_finished_while_one_waited_serves_it_without_a_call(
    sb: SandboxServer, database_url: str
) -> None:
    """Under load a sync takes long, and the process waiting for its lock sees time pass (on
    SQLite its wait even moves a FakeClock): the index it then finds is fresh for a request
    asked before the sync ended, so it is not refreshed again (was: 4 calls now and then)."""
    clocks: list[AskedClock] = []

    def slow_page(request: httpx.Request) -> None:
        if request.url.path.endswith("/contacts"):
            for clock in clocks:  # both requests are asked before any page is read
                assert clock.asked.wait(10)
            clocks[0].clock.advance(FRESH_FOR.total_seconds())  # a minute a page, as under load

    with httpx.Client(timeout=10.0, event_hooks={"request": [slow_page]}) as hooked:
        for world in make_world(sb, hooked, database_url, contacts=1_200):
            other_store = Store(database_url, clock=world.clock)
            clocks += [AskedClock(world.clock), AskedClock(world.clock)]
            resolvers = [
                ContactResolver(world.store, clocks[0]),
                ContactResolver(other_store, clocks[1]),
            ]
            before = world.contact_calls()
            try:
                answers = resolve_together(world, resolvers, world.subscribed()[-600:])
            finally:
                other_store.close()
            assert world.contact_calls() - before == 3  # one sync of 3 pages, no refresh
            assert sorted(a.calls for a in answers) == [0, 3]
            assert answers[0].found == answers[1].found


def test_contact_ids_are_checked_for_few_calls(world: World) -> None:
    ids = [world.id_of(e) for e in world.subscribed()[:3]]
    ghost = "00000000-0000-4000-8000-00000000dead"
    before = world.contact_calls()
    cold = world.resolver.check_ids(world.client, [*ids, ghost], account_key="acct")
    assert cold.found == ids and cold.unknown == [ghost]
    assert cold.calls == world.contact_calls() - before == 4  # one each: few ids, cold index
    many = [world.id_of(e) for e in world.subscribed()[:20]]
    before = world.contact_calls()
    synced = world.resolver.check_ids(world.client, many, account_key="acct")
    assert synced.found == many and synced.calls == world.contact_calls() - before == 3
    gone = world.id_of(world.deleted()[0])
    before = world.contact_calls()
    warm = world.resolver.check_ids(world.client, [*many, gone], account_key="acct")
    assert warm.calls == world.contact_calls() - before == 0  # the sync just warmed the index
    assert warm.skipped == [(gone, "deleted")]
