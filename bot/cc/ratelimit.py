"""The API key's request budget inside one process: a token bucket per second, a count per UTC day.

Several processes share one budget through the database instead (bot/store/ratelimit.py).
"""

from __future__ import annotations

import threading
from datetime import date

from bot.cc.budget import BudgetSpent, next_reset
from bot.clock import SYSTEM_CLOCK, Clock


class TokenBucketLimiter:
    """bot.cc.ports.RateLimiter for one process: every account of the key draws on it.

    A token bucket kept as its "theoretical arrival time" (GCRA): a request may leave once the
    bucket holds a token; it refills at `rate_per_second` less `headroom` and holds `burst`.
    The default burst of 1 spaces requests evenly: Constant Contact (and the sandbox) count a
    sliding second, so a full burst followed by the refill would put a fifth request inside
    the first one's second. The headroom absorbs network jitter for the same reason.
    """

    def __init__(
        self,
        rate_per_second: float = 4.0,
        daily_quota: int = 10_000,
        clock: Clock = SYSTEM_CLOCK,
        *,
        burst: int = 1,
        headroom: float = 0.05,
    ) -> None:
        if rate_per_second <= 0 or burst < 1 or not 0 <= headroom < 1:
            raise ValueError("rate_per_second > 0, burst >= 1 and 0 <= headroom < 1 are needed")
        self._interval = 1.0 / (rate_per_second * (1.0 - headroom))
        self._tolerance = (burst - 1) * self._interval
        self._quota = daily_quota
        self._clock = clock
        self._lock = threading.Lock()
        self._empty_at = clock.monotonic()  # when the bucket would be full again
        self._day: date = clock.now().date()
        self._calls_today = 0

    @property
    def calls_today(self) -> int:
        with self._lock:
            self._roll_day()
            return self._calls_today

    @property
    def calls_left_today(self) -> int:
        """What is left of today's quota (read-only: takes no token)."""
        return max(self._quota - self.calls_today, 0)

    def acquire(self) -> None:
        """Take the next token (waiting for it); BudgetSpent once the UTC day is spent."""
        with self._lock:
            self._roll_day()
            if self._calls_today >= self._quota:
                reset = next_reset(self._clock.now())
                raise BudgetSpent("key", reset, reset)
            self._calls_today += 1
            now = self._clock.monotonic()
            empty_at = max(self._empty_at, now)
            leave_at = max(now, empty_at - self._tolerance)
            self._empty_at = empty_at + self._interval
            wait = leave_at - now
        if wait > 0:
            self._clock.sleep(wait)

    def hold_off(self, seconds: float) -> None:
        """Nobody takes a token for `seconds` (after a 429 throttled)."""
        with self._lock:
            resume_at = self._clock.monotonic() + seconds
            self._empty_at = max(self._empty_at, resume_at + self._tolerance)

    def spent_today(self) -> None:
        """Constant Contact said the day is spent (429 quota_exceeded)."""
        with self._lock:
            self._roll_day()
            self._calls_today = max(self._calls_today, self._quota)

    def _roll_day(self) -> None:
        today = self._clock.now().date()  # clock.now() is UTC
        if today != self._day:
            self._day, self._calls_today = today, 0


# The name this limiter had before it took a burst; tests/poller still use it.
SpacingLimiter = TokenBucketLimiter
