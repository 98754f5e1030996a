"""The database rate budget shared by two limiters (two processes) on one database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.cc.budget import HEADROOM, BudgetSpent, Priority, calling, next_reset
from bot.cc.errors import QuotaExhausted
from bot.clock import FakeClock
from bot.store import Store
from bot.store.ratelimit import DatabaseRateLimiter


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _limiters(
    database_url: str, clock: FakeClock, **options: float
) -> tuple[DatabaseRateLimiter, DatabaseRateLimiter, Store]:
    first, second = Store(database_url, clock), Store(database_url, clock)
    first.upgrade()
    one = DatabaseRateLimiter(first, "api-key", clock=clock, **options)  # type: ignore[arg-type]
    two = DatabaseRateLimiter(second, "api-key", clock=clock, **options)  # type: ignore[arg-type]
    return one, two, first


def _max_in_any_second(moments: list[datetime]) -> int:
    return max(
        sum(1 for other in moments if start <= other < start + timedelta(seconds=1))
        for start in moments
    )


def test_two_limiters_together_keep_to_the_rate(database_url: str, clock: FakeClock) -> None:
    one, two, _ = _limiters(database_url, clock, rate_per_second=4.0)
    sent: list[datetime] = []
    for n in range(12):
        (one if n % 2 else two).acquire()
        sent.append(clock.now())
    assert _max_in_any_second(sent) == 4
    spacing = 0.25 / (1 - HEADROOM)  # slots a little wider than 1/rate, none narrower
    assert timedelta(seconds=11 * 0.25) <= sent[-1] - sent[0] <= timedelta(seconds=11 * spacing)


def test_idle_time_is_not_saved_up_as_a_burst(database_url: str, clock: FakeClock) -> None:
    one, two, _ = _limiters(database_url, clock, rate_per_second=4.0)
    one.acquire()
    clock.advance(60)
    sent = []
    for limiter in (one, two, one, two, one, two):
        limiter.acquire()
        sent.append(clock.now())
    assert _max_in_any_second(sent) == 4


def test_hold_off_keeps_every_limiter_back(database_url: str, clock: FakeClock) -> None:
    one, two, _ = _limiters(database_url, clock)
    one.acquire()
    start = clock.now()
    one.hold_off(5.0)
    two.acquire()
    assert clock.now() - start >= timedelta(seconds=5)


def test_calls_are_counted_per_utc_day_and_the_quota_stops_them(
    database_url: str, clock: FakeClock
) -> None:
    one, two, store = _limiters(database_url, clock, daily_quota=3)
    one.acquire()
    two.acquire()
    one.acquire()
    assert store.calls_today("api-key") == 3
    assert store.calls_today("another-key") == 0
    with pytest.raises(QuotaExhausted):
        two.acquire()
    assert store.calls_today("api-key") == 3
    clock.advance(24 * 3600)
    assert store.calls_today("api-key") == 0
    two.acquire()
    assert store.calls_today("api-key") == 1


def test_the_key_is_not_stored_in_clear(database_url: str, clock: FakeClock) -> None:
    from sqlalchemy import text

    one, _, store = _limiters(database_url, clock)
    one.acquire()
    with store.engine.connect() as connection:
        keys = connection.execute(text("SELECT key_hash FROM rate_budget")).scalars().all()
    assert keys and "api-key" not in keys


def test_what_is_left_of_the_day_is_read_without_taking_a_slot(
    database_url: str, clock: FakeClock
) -> None:
    one, two, store = _limiters(database_url, clock, daily_quota=5)
    for _ in range(3):
        one.acquire()
    assert one.calls_left_today == two.calls_left_today == 2  # both processes see the day
    assert one.calls_left_today == 2, "reading it spends nothing"
    two.acquire()
    two.acquire()
    assert one.calls_left_today == 0
    with pytest.raises(QuotaExhausted):
        one.acquire()
    clock.advance(24 * 3600)
    assert one.calls_left_today == 5
    store.close()


def test_priorities_and_shares_are_kept_in_the_database_for_every_process(
    database_url: str, clock: FakeClock
) -> None:
    one, two, _ = _limiters(database_url, clock, rate_per_second=4.0, headroom=0.0)
    with calling("T1", Priority.BACKGROUND):
        one.acquire()  # a job part in the worker
    start = clock.now()
    with calling("T2", Priority.PERSON):
        two.acquire()  # a person in the web process: behind that one slot only
    assert clock.now() - start <= timedelta(seconds=0.25)
    with calling("T2", Priority.FOLLOW):
        two.acquire()
    seen_by_one, seen_by_two = one.view("T2"), two.view("T1")
    assert (seen_by_one.workspace_calls, seen_by_one.workspace_background) == (2, 1)
    assert (seen_by_two.workspace_calls, seen_by_two.workspace_background) == (1, 1)
    assert seen_by_one.key_calls == 3 and seen_by_one.workspaces_wanting == 2


def test_quota_exceeded_in_one_process_spends_the_day_for_the_others(
    database_url: str, clock: FakeClock
) -> None:
    one, two, _ = _limiters(database_url, clock)
    one.spent_today()  # Constant Contact answered 429 quota_exceeded there
    with calling("T1", Priority.BACKGROUND), pytest.raises(BudgetSpent) as caught:
        two.acquire()
    assert caught.value.whose == "key"
    assert caught.value.reset_at == next_reset(clock.now())
    with pytest.raises(BudgetSpent):
        two.acquire()  # people too: the key has nothing left
