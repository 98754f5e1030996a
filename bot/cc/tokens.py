"""Token sources: a fixed token, or OAuth2 tokens that refresh (and rotate) when needed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Protocol

from bot.cc.errors import AuthError
from bot.cc.models import TokenResponse
from bot.clock import SYSTEM_CLOCK, Clock

REFRESH_MARGIN = timedelta(minutes=5)


class StaticTokens:
    """A token that cannot be refreshed (CC_ACCESS_TOKEN alone, the sandbox)."""

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    def access_token(self) -> str:
        return self._token

    def refresh(self, rejected_token: str) -> str:
        raise AuthError(
            "The Constant Contact token was refused and cannot be refreshed", status=401
        )


class Refresher(Protocol):
    """What RefreshingTokens needs of OAuth2: bot.cc.oauth.OAuthClient."""

    def refresh(self, refresh_token: str) -> TokenResponse: ...


class RefreshingTokens:
    """Access and rotating refresh tokens of one account.

    Refreshes when the token is about to expire or a call got 401 with the current token; only
    one refresh at a time (a caller whose rejected token is already replaced takes the new one).
    `on_rotate` persists the new tokens before they are used: a rotated refresh token is single
    use, so losing it would disconnect the account. `lock` is the seam for serializing refresh
    across processes (the store passes a database lock).
    """

    def __init__(
        self,
        oauth: Refresher,
        access_token: str,
        refresh_token: str | None,
        expires_at: datetime | None,
        on_rotate: Callable[[TokenResponse], None] = lambda tokens: None,
        lock: Callable[[], AbstractContextManager[object]] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        reload: Callable[[], tuple[str, str | None, datetime | None]] | None = None,
    ) -> None:
        self._oauth = oauth
        self._access = access_token
        self._refresh = refresh_token
        self._expires_at = expires_at
        self._on_rotate = on_rotate
        self._thread_lock = threading.Lock()
        self._lock = lock
        self._clock = clock
        self._reload = reload

    def access_token(self) -> str:
        if self._expires_at is not None and self._clock.now() >= self._expires_at - REFRESH_MARGIN:
            return self.refresh(self._access)
        return self._access

    def refresh(self, rejected_token: str) -> str:
        with self._thread_lock:
            if self._lock is None:
                return self._refresh_once(rejected_token)
            with self._lock():
                return self._refresh_once(rejected_token)

    def _refresh_once(self, rejected_token: str) -> str:
        if self._reload is not None:
            # Another process may have refreshed while we waited for the lock.
            self._access, self._refresh, self._expires_at = self._reload()
        if self._access != rejected_token and not self._expiring():
            return self._access
        if not self._refresh:
            raise AuthError("The Constant Contact token expired and there is no refresh token")
        tokens = self._oauth.refresh(self._refresh)
        try:
            self._on_rotate(tokens)
        finally:
            # The old refresh token is spent now: even when persisting failed, the new ones are
            # this process's only way on (and the next rotation persists again).
            self._hold(tokens)
        return self._access

    def _hold(self, tokens: TokenResponse) -> None:
        self._access = tokens.access_token
        self._refresh = tokens.refresh_token or self._refresh
        self._expires_at = self._clock.now() + timedelta(seconds=tokens.expires_in)

    def _expiring(self) -> bool:
        return (
            self._expires_at is not None and self._clock.now() >= self._expires_at - REFRESH_MARGIN
        )
