"""Slack's pace, kept by the poller before it calls, so Slack never has to answer 429.

Slack allows about 1 `chat.postMessage` a second per channel (with short bursts), 50
`chat.update` a minute per workspace (Tier 3), and 1 `conversations.replies` a minute per
workspace for apps created since 2025-05-29 that are not in the Marketplace. The poller never
sleeps for them: a call that would go over raises `Paced` and the thread's work is deferred to
when it may go; a progress edit that would go over is owed instead, and the next cycle that
may edit shows the latest progress (edits coalesce). The budgets live in this process, on the
poller's clock; several pollers of one app each keep their own (Slack's 429 still defers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clock import Clock

POSTS_PER_SECOND = 1.0
POST_BURST = 3
UPDATES_PER_MINUTE = 48  # under Tier 3's 50, for the edits made outside the poller
# Progress edits use only the first few of a minute's edits: the rest is kept for the ends
# (progress and parent), which are what people wait for and cannot be put off.
PROGRESS_UPDATES_PER_MINUTE = 10
READS_PER_MINUTE = 1
MINUTE = 60.0


class Paced(Exception):
    """This call would go over Slack's pace: try again in `seconds`."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"{what}: wait {seconds:.1f} s")
        self.what = what
        self.seconds = seconds


@dataclass
class _Bucket:
    """`burst` calls at once, then `rate` a second."""

    burst: float
    rate: float
    tokens: float
    at: float

    def wait(self, now: float) -> float:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass
class _Window:
    """The calls of the last minute; a call waits while `most` of them were made."""

    times: list[float] = field(default_factory=list)

    def wait(self, now: float, most: int) -> float:
        self.times = [at for at in self.times if now - at < MINUTE]
        return 0.0 if len(self.times) < most else MINUTE - (now - self.times[-most])

    def take(self, now: float) -> None:
        self.times.append(now)


class Pace:
    """The poller's budgets: posts per channel, edits and thread reads per workspace."""

    def __init__(
        self,
        clock: Clock,
        *,
        posts_per_second: float = POSTS_PER_SECOND,
        post_burst: int = POST_BURST,
        updates_per_minute: int = UPDATES_PER_MINUTE,
        progress_updates_per_minute: int = PROGRESS_UPDATES_PER_MINUTE,
        reads_per_minute: int = READS_PER_MINUTE,
    ) -> None:
        self._clock = clock
        self._post_rate = (float(post_burst), posts_per_second)
        self._updates_per_minute = updates_per_minute
        self._progress_updates = progress_updates_per_minute
        self._reads_per_minute = reads_per_minute
        self._posts: dict[tuple[str, str], _Bucket] = {}
        self._updates: dict[str, _Window] = {}
        self._reads: dict[str, _Window] = {}
        self.owed: set[int] = set()  # activities whose progress edit waits for the budget

    def post(self, workspace: str, channel: str) -> None:
        """Count a post to `channel`, or raise `Paced` if it must wait."""
        now = self._clock.monotonic()
        burst, rate = self._post_rate
        bucket = self._posts.setdefault((workspace, channel), _Bucket(burst, rate, burst, now))
        wait = bucket.wait(now)
        if wait > 0:
            raise Paced("chat.postMessage", wait)
        bucket.take()

    def update(self, workspace: str) -> None:
        """Count an edit the thread needs now, or raise `Paced`."""
        wait = self._take(self._updates, workspace, self._updates_per_minute)
        if wait > 0:
            raise Paced("chat.update", wait)

    def may_update(self, workspace: str) -> bool:
        """Count an edit that may wait for a later cycle (progress): False when it must."""
        return self._take(self._updates, workspace, self._progress_updates) == 0

    def read(self, workspace: str) -> None:
        """Count a page of conversations.replies, or raise `Paced`."""
        wait = self._take(self._reads, workspace, self._reads_per_minute)
        if wait > 0:
            raise Paced("conversations.replies", wait)

    def _take(self, windows: dict[str, _Window], workspace: str, most: int) -> float:
        now = self._clock.monotonic()
        window = windows.setdefault(workspace, _Window())
        wait = window.wait(now, most)
        if wait == 0:
            window.take(now)
        return wait
