"""The API key's request budget inside one process: spaced slots per second, a count per UTC day.

Several processes share one budget through the database instead (bot/store/ratelimit.py).
"""

from __future__ import annotations

import threading
from datetime import date

from bot.cc.errors import QuotaExhausted
from bot.clock import SYSTEM_CLOCK, Clock


class SpacingLimiter:
    """bot.cc.ports.RateLimiter for one process: every account of the key draws on it."""

    def __init__(
        self,
        rate_per_second: float = 4.0,
        daily_quota: int = 10_000,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        # Evenly spaced slots with 5% headroom, so network jitter never bunches requests into
        # more than `rate_per_second` within one second at the server.
        self._interval = 1.05 / rate_per_second
        self._quota = daily_quota
        self._clock = clock
        self._lock = threading.Lock()
        self._next_slot = clock.monotonic()
        self._day: date = clock.now().date()
        self._calls_today = 0

    @property
    def calls_today(self) -> int:
        with self._lock:
            self._roll_day()
            return self._calls_today

    def acquire(self) -> None:
        with self._lock:
            self._roll_day()
            if self._calls_today >= self._quota:
                raise QuotaExhausted(
                    f"The day's {self._quota} Constant Contact requests are spent; "
                    "the budget resets at 00:00 UTC"
                )
            self._calls_today += 1
            now = self._clock.monotonic()
            slot = max(self._next_slot, now)
            self._next_slot = slot + self._interval
            wait = slot - now
        if wait > 0:
            self._clock.sleep(wait)

    def hold_off(self, seconds: float) -> None:
        with self._lock:
            self._next_slot = max(self._next_slot, self._clock.monotonic() + seconds)

    def _roll_day(self) -> None:
        today = self._clock.now().date()
        if today != self._day:
            self._day, self._calls_today = today, 0
