"""Moving a test's FakeClock the way a running poller's time would move."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.store import Store


def next_cycle(store: Store, clock: FakeClock, wait: float) -> None:
    """Move `clock` to the poller's next cycle that has work: `wait` (what the poller answered;
    at least half a second), or later, when nothing is due before then.

    A running poller wakes every few seconds to see whether anything new arrived. In a test
    nothing arrives between cycles, so those idle cycles only cost time: the clock goes
    straight to when an activity's poll is due or a lease ends, as the store says.
    """
    step = max(wait, 0.5)
    due = store.next_due_at()
    if due is not None:
        step = max(step, (due - clock.now()).total_seconds())
    clock.advance(step)
