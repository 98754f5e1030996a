"""The day spent: following waits for 00:00 UTC, says so once in the thread, and goes on by
itself (the API key's fair budget, bot/cc/budget.py, on the poller's FakeClock)."""

from __future__ import annotations

from datetime import timedelta

from bot.cc.budget import SharedBudget, fair_limiter, next_reset
from bot.cc.client import AccountClient, CCApi
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from tests.support.poller import CONTACTS, World


class BudgetAccounts:
    """Each workspace its sandbox account, every one on the same key's budget."""

    def __init__(self, world: World, limiter: SharedBudget) -> None:
        self._world = world
        self._api = CCApi(world.sandbox.base_url, limiter, clock=FakeClock(), max_retries=0)

    def client_for(self, workspace_id: str) -> AccountClient | None:
        state = self._world.sandbox.state
        if f"account-{workspace_id}" not in state.accounts:
            state.add_account(f"account-{workspace_id}", contacts=CONTACTS)
            state.add_access_token(
                f"token-{workspace_id}", f"account-{workspace_id}", expires_in=None
            )
        return self._api.for_account(StaticTokens(f"token-{workspace_id}"), workspace_id)


def test_a_spent_day_waits_for_midnight_says_so_once_and_goes_on(world: World) -> None:
    limiter = fair_limiter(rate_per_second=1000.0, daily_quota=50, clock=world.clock)
    world.accounts = BudgetAccounts(world, limiter)  # type: ignore[assignment]
    tracked = world.start()
    poller = world.poller()
    poller.run_once()
    limiter.spent_today()  # Constant Contact answered 429 quota_exceeded somewhere
    calls = world.cc_status_calls()
    for _ in range(5):  # cycles on the same day: one word in the thread, no call made
        world.clock.advance(600)
        poller.run_once()
    assert world.cc_status_calls() == calls
    waiting = [m for m in world.thread(tracked) if "Waiting" in m.text]
    assert len(waiting) == 1
    assert "today's Constant Contact calls are all spent" in waiting[0].text
    assert "00:00 UTC" in waiting[0].text and "by itself" in waiting[0].text
    row = world.store.get_tracked("T1", tracked.activity_id)
    assert row is not None and not row.finished

    midnight = next_reset(world.clock.now())
    world.clock.advance((midnight - world.clock.now()).total_seconds() + 1)
    world.run_until_done(poller)
    assert world.replies_by_state(tracked)["completed"] == 1
    assert len([m for m in world.thread(tracked) if "Waiting" in m.text]) == 1
    assert world.clock.now() - midnight < timedelta(minutes=5)
