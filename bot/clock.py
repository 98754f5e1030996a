"""Time as a dependency, so tests move it instead of sleeping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to; sleep() advances it at once."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._start = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        with self._lock:
            return self._elapsed

    def now(self) -> datetime:
        from datetime import timedelta

        with self._lock:
            return self._start + timedelta(seconds=self._elapsed)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._elapsed += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._elapsed += seconds


SYSTEM_CLOCK = SystemClock()
