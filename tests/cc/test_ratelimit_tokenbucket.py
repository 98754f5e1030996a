"""TokenBucketLimiter on a FakeClock: spacing, bursts, hold-off, the UTC day's quota, threads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from bot.cc.errors import QuotaExhausted
from bot.cc.ratelimit import TokenBucketLimiter
from bot.clock import FakeClock


def departures(limiter: TokenBucketLimiter, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        limiter.acquire()
        times.append(clock.monotonic())
    return times


def most_in_one_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


def test_requests_are_spaced_so_no_second_holds_more_than_the_rate() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(4.0, clock=clock)
    times = departures(limiter, clock, 40)
    assert times[0] == 0.0
    assert most_in_one_second(times) == 4
    assert times[-1] == pytest.approx(39 / (4.0 * 0.95))


def test_a_burst_leaves_at_once_then_the_bucket_refills_at_the_rate() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(4.0, clock=clock, burst=3, headroom=0.0)
    times = departures(limiter, clock, 5)
    assert times == [0.0, 0.0, 0.0, 0.25, 0.5]


def test_an_idle_bucket_does_not_save_more_than_its_burst() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(4.0, clock=clock, headroom=0.0)
    departures(limiter, clock, 2)
    clock.advance(60)
    start = clock.monotonic()
    times = departures(limiter, clock, 3)
    assert [t - start for t in times] == [0.0, 0.25, 0.5]


def test_hold_off_keeps_the_next_caller_back() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(4.0, clock=clock)
    limiter.acquire()
    limiter.hold_off(3.0)
    limiter.acquire()
    assert clock.monotonic() == pytest.approx(3.0)


def test_the_days_quota_raises_before_a_call_and_resets_at_midnight_utc() -> None:
    clock = FakeClock(datetime(2026, 3, 1, 23, 59, 0, tzinfo=UTC))
    limiter = TokenBucketLimiter(4.0, daily_quota=3, clock=clock)
    departures(limiter, clock, 3)
    assert limiter.calls_today == 3
    with pytest.raises(QuotaExhausted, match="calls are spent; they reset at 00:00 UTC"):
        limiter.acquire()
    assert limiter.calls_today == 3
    clock.advance(60)  # 00:00:00 UTC and a little
    assert limiter.calls_today == 0
    limiter.acquire()
    assert limiter.calls_today == 1


def test_threads_share_one_count_and_the_quota_is_exact() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(1000.0, daily_quota=150, clock=clock)
    outcomes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            try:
                limiter.acquire()
                result = "sent"
            except QuotaExhausted:
                result = "refused"
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("sent") == 150
    assert outcomes.count("refused") == 50
    assert limiter.calls_today == 150


def test_what_is_left_of_the_day_is_read_without_taking_a_token() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate_per_second=100.0, daily_quota=3, clock=clock)
    limiter.acquire()
    assert limiter.calls_left_today == limiter.calls_left_today == 2
    limiter.acquire()
    limiter.acquire()
    assert limiter.calls_left_today == 0
