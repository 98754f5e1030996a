"""SpacingLimiter on a FakeClock: spacing, hold-off after a 429, the daily quota and its reset."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import pytest

from bot.cc.errors import QuotaExhausted
from bot.cc.ratelimit import SpacingLimiter
from bot.clock import FakeClock


def leave_times(limiter: SpacingLimiter, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        limiter.acquire()
        times.append(clock.monotonic())
    return times


def test_requests_are_spaced_never_more_than_the_rate_in_any_second() -> None:
    clock = FakeClock()
    limiter = SpacingLimiter(rate_per_second=4.0, clock=clock)
    times = leave_times(limiter, clock, 12)
    assert times[0] == 0.0  # the first one leaves at once
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0.25 <= gap <= 0.25 * 1.1 for gap in gaps), gaps  # evenly, a little headroom
    for start in times:
        assert sum(1 for t in times if start <= t < start + 1.0) <= 4


def test_idle_time_is_not_saved_up_for_a_burst() -> None:
    clock = FakeClock()
    limiter = SpacingLimiter(rate_per_second=4.0, clock=clock)
    limiter.acquire()
    clock.advance(10.0)
    times = leave_times(limiter, clock, 5)
    assert times[0] == 10.0
    assert all(b - a >= 0.25 for a, b in itertools.pairwise(times))


def test_hold_off_keeps_every_caller_back() -> None:
    clock = FakeClock()
    limiter = SpacingLimiter(rate_per_second=4.0, clock=clock)
    limiter.acquire()
    limiter.hold_off(3.0)
    limiter.acquire()
    assert clock.monotonic() == pytest.approx(3.0)
    # A shorter hold-off never brings the next slot forward.
    limiter.hold_off(3.0)
    limiter.hold_off(0.1)
    limiter.acquire()
    assert clock.monotonic() == pytest.approx(6.0)


def test_threads_share_the_spacing() -> None:
    clock = FakeClock()
    limiter = SpacingLimiter(rate_per_second=10.0, clock=clock)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert limiter.calls_today == 20
    # 19 waits of at least 1/10 s each, whoever took which slot.
    assert clock.monotonic() >= 1.9


def test_daily_quota_raises_before_the_call_and_resets_at_midnight_utc() -> None:
    clock = FakeClock(start=datetime(2026, 3, 1, 23, 59, 0, tzinfo=UTC))
    limiter = SpacingLimiter(rate_per_second=100.0, daily_quota=3, clock=clock)
    for _ in range(3):
        limiter.acquire()
    with pytest.raises(QuotaExhausted) as caught:
        limiter.acquire()
    assert "today's Constant Contact calls are spent" in caught.value.message
    assert "reset at 00:00 UTC" in caught.value.message
    assert limiter.calls_today == 3  # the refused one did not count

    clock.advance(59.0)  # 23:59:59.x: still the same UTC day
    with pytest.raises(QuotaExhausted):
        limiter.acquire()
    clock.advance(1.0)  # 00:00:00.x on 2 March
    assert clock.now().date().isoformat() == "2026-03-02"
    assert limiter.calls_today == 0
    limiter.acquire()
    assert limiter.calls_today == 1
