"""The API key's request budget shared by every process through the database.

One row per key holds the next free request slot (seconds since the epoch) and the UTC day's
count. Each `acquire` locks the row (SELECT ... FOR UPDATE on PostgreSQL, a BEGIN IMMEDIATE
transaction on SQLite), takes the next slot and counts the call, then waits for its slot
outside the transaction, so web and poller processes together keep to 4 requests a second.

Slots are spaced a little wider than 1/rate (`headroom`, 10%): a process may wake for its
slot late (a busy CPU) and requests reach the API with varying latency, so a server counting a
sliding second would otherwise see a fifth request inside the first one's second now and then.
With two pollers in bench/poller.py, 5% let a 429 through in 4 runs of 6; 10% in none of 12.
"""

from __future__ import annotations

from bot.cc.errors import QuotaExhausted
from bot.clock import SYSTEM_CLOCK, Clock
from bot.store.store import Store


class DatabaseRateLimiter:
    """bot.cc.ports.RateLimiter, coordinated through the database."""

    def __init__(
        self,
        store: Store,
        api_key: str,
        rate_per_second: float = 4.0,
        daily_quota: int = 10_000,
        clock: Clock = SYSTEM_CLOCK,
        headroom: float = 0.10,
    ) -> None:
        self._store = store
        self._api_key = api_key
        self._spacing = 1.0 / (rate_per_second * (1.0 - headroom))
        self._daily_quota = daily_quota
        self._clock = clock

    @property
    def calls_left_today(self) -> int:
        """What is left of today's quota across every process (read-only: takes no slot)."""
        return max(self._daily_quota - self._store.calls_today(self._api_key), 0)

    def acquire(self) -> None:
        """Block until one request may be sent; raise QuotaExhausted when the day is spent."""
        wait = self._reserve_slot()
        if wait > 0:
            self._clock.sleep(wait)

    def hold_off(self, seconds: float) -> None:
        """After a 429, keep every caller of this key back for `seconds`."""
        now = self._clock.now().timestamp()
        with self._store.rate_budget_row(self._api_key) as row:
            row.next_slot = max(row.next_slot, now + seconds)

    def _reserve_slot(self) -> float:
        moment = self._clock.now()
        now, today = moment.timestamp(), moment.date().isoformat()
        with self._store.rate_budget_row(self._api_key) as row:
            if row.day != today:
                row.day, row.calls = today, 0
            if row.calls >= self._daily_quota:
                raise QuotaExhausted(
                    f"The day's {self._daily_quota} Constant Contact requests are spent; "
                    "the budget resets at 00:00 UTC"
                )
            slot = max(now, row.next_slot)
            row.next_slot = slot + self._spacing
            row.calls += 1
        return slot - now
