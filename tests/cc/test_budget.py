"""The fair budget's policy (bot/cc/budget.py): people first, equal shares among the workspaces
that want calls, the reserve kept for people, the day spent and back at 00:00 UTC."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.cc.budget import (
    WANTING_SECONDS,
    BudgetSpent,
    BudgetState,
    Caller,
    Granted,
    Later,
    Limits,
    Priority,
    Spent,
    calling,
    current_caller,
    decide,
    fair_limiter,
    in_background,
    next_reset,
)
from bot.clock import FakeClock

LIMITS = Limits(rate_per_second=4.0, daily_quota=10_000, reserve=0.2, headroom=0.0)
DAY = "2026-03-01"
RESET = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
START = datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()

PERSON = Priority.PERSON
FOLLOW = Priority.FOLLOW
BACKGROUND = Priority.BACKGROUND


def ask(state: BudgetState, who: str, priority: Priority, waiter: str, now: float):  # type: ignore[no-untyped-def]
    return decide(state, LIMITS, Caller(who, priority), waiter, now, DAY, RESET)


def serve(
    state: BudgetState, callers: dict[str, tuple[str, Priority]], seconds: float
) -> list[str]:
    """Every caller (waiter id → workspace, priority) asks again and again, as the limiter's
    loop does, for `seconds`; answers the waiter ids in the order they got a slot."""
    served: list[str] = []
    asks_at = dict.fromkeys(callers, START)
    while True:
        waiter = min(asks_at, key=lambda w: (asks_at[w], w))
        now = asks_at[waiter]
        if now > START + seconds:
            return served
        who, priority = callers[waiter]
        decision = ask(state, who, priority, waiter, now)
        if isinstance(decision, Granted):
            served.append(waiter)
            asks_at[waiter] = now + decision.wait + 0.01  # the call, then the next one
        elif isinstance(decision, Later):
            asks_at[waiter] = max(decision.until, now + 0.001)
        else:
            raise AssertionError(decision)


def test_a_person_waits_behind_at_most_one_background_slot() -> None:
    state = BudgetState(DAY)
    # Six background callers of two workspaces: the first takes the free slot, five wait.
    assert isinstance(ask(state, "T0", BACKGROUND, "bg0", START), Granted)
    for n in range(1, 6):
        assert isinstance(ask(state, f"T{n % 2}", BACKGROUND, f"bg{n}", START), Later)
    # Nobody reserved ahead: the person's slot is the next one, before the five waiting.
    assert ask(state, "T9", PERSON, "p", START) == Later(START + LIMITS.spacing)
    slot = START + LIMITS.spacing
    for n in range(1, 6):
        assert isinstance(ask(state, f"T{n % 2}", BACKGROUND, f"bg{n}", slot), Later)
    assert ask(state, "T9", PERSON, "p", slot) == Granted(0.0)
    assert state.next_slot == pytest.approx(START + 2 * LIMITS.spacing)


def test_following_goes_before_job_parts_and_syncs() -> None:
    state = BudgetState(DAY)
    callers = {"sync": ("T1", BACKGROUND), "follow": ("T1", FOLLOW)}
    served = serve(state, callers, seconds=5)
    assert served[: len(served) - 1].count("sync") <= 1  # it gets a slot only when free
    assert Counter(served)["follow"] >= 18


def test_workspaces_wanting_calls_get_equal_shares_of_the_rate() -> None:
    state = BudgetState(DAY)
    # Workspace 1 has five threads of background work, workspace 2 one.
    callers = {f"big{n}": ("T1", BACKGROUND) for n in range(5)} | {"small": ("T2", BACKGROUND)}
    served = serve(state, callers, seconds=30)
    by_workspace = Counter(callers[w][0] for w in served)
    assert abs(by_workspace["T1"] - by_workspace["T2"]) <= 1
    assert len(served) >= 30 * 4 - 1  # no slot is lost to the sharing


def test_an_idle_workspaces_share_goes_to_the_others_and_brings_no_credit_back() -> None:
    state = BudgetState(DAY)
    alone = serve(state, {"a": ("T1", BACKGROUND), "b": ("T1", BACKGROUND)}, seconds=60)
    assert len(alone) >= 60 * 4 - 1  # alone, workspace 1 has the whole rate
    later = START + 61
    callers = {"a": ("T1", BACKGROUND), "c": ("T2", BACKGROUND)}
    asks = dict.fromkeys(callers, later)
    served: list[str] = []
    for _ in range(200):
        waiter = min(asks, key=lambda w: (asks[w], w))
        decision = ask(state, *callers[waiter], waiter, asks[waiter])
        if isinstance(decision, Granted):
            served.append(callers[waiter][0])
            asks[waiter] += decision.wait + 0.01
        else:
            assert isinstance(decision, Later)
            asks[waiter] = max(decision.until, asks[waiter] + 0.001)
    counted = Counter(served)
    # Workspace 2 was idle for a minute: it shares from now on, it does not take a minute back.
    assert abs(counted["T1"] - counted["T2"]) <= 1


def test_background_work_leaves_the_unspent_reserve_to_people() -> None:
    limits = Limits(rate_per_second=1000.0, daily_quota=100, reserve=0.2, headroom=0.0)
    state = BudgetState(DAY)
    now = START
    for n in range(80):
        now += 0.01
        assert isinstance(
            decide(state, limits, Caller("T1", BACKGROUND), f"w{n}", now, DAY, RESET), Granted
        )
    spent = decide(state, limits, Caller("T1", BACKGROUND), "w", now + 0.01, DAY, RESET)
    assert spent == Spent(RESET, "key")
    for n in range(20):  # the 20 kept go to people waiting, whoever they are
        now += 0.01
        assert isinstance(
            decide(state, limits, Caller("T2", PERSON), f"p{n}", now, DAY, RESET), Granted
        )
    assert decide(state, limits, Caller("T2", PERSON), "p", now + 1, DAY, RESET) == Spent(
        RESET, "key"
    )


def test_a_workspace_past_its_share_of_the_day_waits_while_others_want_calls() -> None:
    limits = Limits(rate_per_second=1000.0, daily_quota=200, reserve=0.2, headroom=0.0)
    state = BudgetState(DAY)  # 160 for background work, 40 kept for people
    now = START

    def bg(who: str) -> object:
        nonlocal now
        now += 0.01
        return decide(state, limits, Caller(who, BACKGROUND), f"{who}-{now}", now, DAY, RESET)

    for _ in range(60):
        assert isinstance(bg("T1"), Granted)  # alone: no share to keep to
    for _ in range(20):  # workspace 2 wants calls too: (60 + 100) / 2 = 80 each
        assert isinstance(bg("T2"), Granted)
        assert isinstance(bg("T1"), Granted)
    refused = bg("T1")
    assert isinstance(refused, Spent) and refused.whose == "share"
    assert refused.retry_at == pytest.approx(now + 60) and refused.retry_at < RESET
    for _ in range(60):
        assert isinstance(bg("T2"), Granted)  # workspace 2 has its 80
    assert bg("T2") == Spent(RESET, "key")  # and the background part of the day is spent


def test_an_idle_workspaces_unused_share_of_the_day_goes_to_the_others() -> None:
    limits = Limits(rate_per_second=1000.0, daily_quota=200, reserve=0.2, headroom=0.0)
    state = BudgetState(DAY)
    now = START

    def bg(who: str) -> object:
        nonlocal now
        now += 0.01
        return decide(state, limits, Caller(who, BACKGROUND), f"{who}-{now}", now, DAY, RESET)

    assert isinstance(bg("T2"), Granted)
    for _ in range(80):
        assert isinstance(bg("T1"), Granted)
    assert isinstance(bg("T1"), Spent)  # (81 + 79) / 2: past its share while T2 wants calls
    now += WANTING_SECONDS + 1  # workspace 2 has wanted nothing for a minute
    for _ in range(79):
        assert isinstance(bg("T1"), Granted)
    assert bg("T1") == Spent(RESET, "key")


def test_the_day_comes_back_at_midnight_utc() -> None:
    clock = FakeClock(start=datetime(2026, 3, 1, 23, 59, 30, tzinfo=UTC))
    limiter = fair_limiter(rate_per_second=1000.0, daily_quota=3, reserve=0.0, clock=clock)
    with calling("T1", BACKGROUND):
        for _ in range(3):
            limiter.acquire()
        with pytest.raises(BudgetSpent) as caught:
            limiter.acquire()
    assert caught.value.reset_at == datetime(2026, 3, 2, tzinfo=UTC)
    assert caught.value.retry_at == caught.value.reset_at and caught.value.whose == "key"
    assert "reset at 00:00 UTC" in caught.value.message
    assert limiter.calls_left_today == 0
    clock.advance(31)
    assert limiter.calls_left_today == 3
    with calling("T1", BACKGROUND):
        limiter.acquire()
    view = limiter.view("T1")
    assert (view.workspace_calls, view.workspace_background, view.key_left) == (1, 1, 2)
    assert view.reset_at == datetime(2026, 3, 3, tzinfo=UTC)


def test_the_caller_is_carried_by_the_context() -> None:
    assert current_caller() == Caller("", PERSON)  # outside any request: a person's
    with calling("T1", PERSON):
        assert current_caller() == Caller("T1", PERSON)
        with in_background():
            assert current_caller() == Caller("T1", BACKGROUND)
        assert current_caller() == Caller("T1", PERSON)
    assert current_caller() == Caller("", PERSON)


def test_next_reset_is_the_next_midnight_utc() -> None:
    moment = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert next_reset(moment) == moment + timedelta(days=1)
