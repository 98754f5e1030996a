"""Seams of the client: where tokens and the request budget come from.

The in-process implementations live in bot/cc/ (tokens.py, ratelimit.py); the store provides
database-backed ones (refresh serialized across processes, one budget for every process).
"""

from __future__ import annotations

from typing import Protocol


class TokenSource(Protocol):
    """An account's access token, and the way to a fresh one."""

    def access_token(self) -> str: ...

    def refresh(self, rejected_token: str) -> str:
        """Return a token newer than `rejected_token` (refreshing only if nobody has yet).

        Raises bot.cc.errors.AuthError when no refresh is possible.
        """
        ...


class RateLimiter(Protocol):
    """The API key's request budget: per second and per UTC day, shared by every caller."""

    def acquire(self) -> None:
        """Block until one request may be sent; raise QuotaExhausted when the day is spent."""
        ...

    def hold_off(self, seconds: float) -> None:
        """After a 429, keep every caller of this key back for `seconds`."""
        ...

    def spent_today(self) -> None:
        """Constant Contact answered 429 quota_exceeded: count the key's day as spent."""
        ...
