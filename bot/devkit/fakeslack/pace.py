"""Slack's rate limits as the fake enforces them, on the fake's clock (a FakeClock in tests).

From Slack's documentation: `chat.postMessage` allows about 1 message a second per channel,
with short bursts; `chat.update` is Tier 3 (50 a minute per workspace); `conversations.replies`
is 1 a minute for apps created since 2025-05-29 that are not in the Marketplace. Over a limit
Slack answers HTTP 429 with `Retry-After` (whole seconds) and does nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

POSTS_PER_SECOND = 1.0
POST_BURST = 4  # "short bursts": a few posts at once, then 1 a second
UPDATES_PER_MINUTE = 50
REPLIES_PER_MINUTE = 1
WINDOW = 60.0


@dataclass
class Bucket:
    """A token bucket: `burst` calls at once, then `rate` a second."""

    burst: float
    rate: float
    tokens: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> float:
        """0 when a call may go now (and it is counted); otherwise the seconds to wait."""
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


@dataclass
class Window:
    """At most `most` calls in any `seconds` (a sliding window)."""

    most: int
    seconds: float = WINDOW
    times: list[float] = field(default_factory=list)

    def take(self, now: float) -> float:
        self.times = [at for at in self.times if now - at < self.seconds]
        if len(self.times) >= self.most:
            return self.seconds - (now - self.times[0])
        self.times.append(now)
        return 0.0


@dataclass
class SlackPace:
    """The fake's rate windows per channel (posts) and per workspace (edits, thread reads)."""

    posts_per_second: float = POSTS_PER_SECOND
    post_burst: int = POST_BURST
    updates_per_minute: int = UPDATES_PER_MINUTE
    replies_per_minute: int | None = REPLIES_PER_MINUTE
    _posts: dict[str, Bucket] = field(default_factory=dict)
    _updates: dict[str, Window] = field(default_factory=dict)
    _replies: dict[str, Window] = field(default_factory=dict)

    def retry_after(self, method: str, team: str, channel: str | None, now: float) -> int | None:
        """Slack's Retry-After for this call now, or None when it is within the limits."""
        wait = 0.0
        if method == "chat.postMessage" and channel:
            bucket = self._posts.setdefault(
                channel, Bucket(float(self.post_burst), self.posts_per_second)
            )
            wait = bucket.take(now)
        elif method == "chat.update":
            wait = self._updates.setdefault(team, Window(self.updates_per_minute)).take(now)
        elif method == "conversations.replies" and self.replies_per_minute is not None:
            wait = self._replies.setdefault(team, Window(self.replies_per_minute)).take(now)
        return max(1, math.ceil(wait)) if wait > 0 else None
