"""Token sources: a fixed token, or OAuth2 tokens that refresh (and rotate) when needed.

`RefreshingTokens` is the one refreshing source. Where the tokens live between refreshes is a
`TokenVault`: in memory (`MemoryVault`: CC_ACCESS_TOKEN/CC_REFRESH_TOKEN, tests) or a stored
connection row (`bot.connect.tokens.ConnectionVault`). A refresh happens inside the vault's
`refreshing()` block, which serializes it (a thread lock here; a database lock across processes
for a stored connection) and shows the tokens as they are now: a second refresher waiting there
finds the tokens the first one saved and uses them instead of spending a rotated refresh token.
A refused refresh token (`invalid_grant`) marks the vault broken and raises ConnectionBroken;
from then on no call is made with it until the account is connected again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.cc.errors import AuthError, ConnectionBroken
from bot.cc.models import TokenResponse
from bot.clock import SYSTEM_CLOCK, Clock

REFRESH_MARGIN = timedelta(minutes=5)
INVALID_GRANT = "invalid_grant"


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


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    broken: str | None = None  # why Constant Contact refused them, once it did


class HeldTokens(Protocol):
    """The vault's tokens inside one `refreshing()` block."""

    tokens: Tokens | None  # None: the account is no longer connected

    def wait_for_token_slot(self) -> None: ...

    def save(self, tokens: Tokens, answer: TokenResponse) -> None: ...

    def mark_broken(self, reason: str) -> None: ...


class TokenVault(Protocol):
    def refreshing(self) -> AbstractContextManager[HeldTokens]: ...


class _MemoryHeld:
    def __init__(self, vault: MemoryVault) -> None:
        self._vault = vault
        self.tokens: Tokens | None = vault.tokens

    def wait_for_token_slot(self) -> None:
        """The OAuth client keeps the token endpoint's one request a second itself."""

    def save(self, tokens: Tokens, answer: TokenResponse) -> None:
        self._vault.tokens = tokens
        self._vault.on_rotate(answer)

    def mark_broken(self, reason: str) -> None:
        self._vault.tokens = replace(self._vault.tokens, broken=reason)


class MemoryVault:
    """Tokens kept in this process. `on_rotate` persists new tokens (a rotated refresh token
    is single use); `lock` serializes refreshes across processes; `reload` reads tokens another
    process may have saved meanwhile."""

    def __init__(
        self,
        tokens: Tokens,
        *,
        on_rotate: Callable[[TokenResponse], None] = lambda tokens: None,
        lock: Callable[[], AbstractContextManager[object]] | None = None,
        reload: Callable[[], tuple[str, str | None, datetime | None]] | None = None,
    ) -> None:
        self.tokens = tokens
        self.on_rotate = on_rotate
        self._lock = lock
        self._reload = reload

    @contextmanager
    def refreshing(self) -> Iterator[HeldTokens]:
        with self._lock() if self._lock is not None else nullcontext():
            if self._reload is not None:
                access, refresh, expires = self._reload()
                self.tokens = Tokens(access, refresh, expires, self.tokens.broken)
            yield _MemoryHeld(self)


class RefreshingTokens:
    """bot.cc.ports.TokenSource over a vault: refreshes when the token is about to expire or a
    call got 401 with the current token, one refresh at a time."""

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
        tokens = Tokens(access_token, refresh_token, expires_at)
        vault = MemoryVault(tokens, on_rotate=on_rotate, lock=lock, reload=reload)
        self._setup(oauth, vault, tokens, clock)

    def _setup(self, oauth: Refresher, vault: TokenVault, tokens: Tokens, clock: Clock) -> None:
        """For subclasses whose tokens live in another vault (bot.connect.tokens)."""
        self._oauth = oauth
        self._vault = vault
        self._clock = clock
        self._thread_lock = threading.Lock()
        self._tokens = tokens

    def access_token(self) -> str:
        tokens = self._usable(self._tokens)
        if self._expiring(tokens):
            return self.refresh(tokens.access_token)
        return tokens.access_token

    def refresh(self, rejected_token: str) -> str:
        with self._thread_lock:
            refused: AuthError | None = None
            with self._vault.refreshing() as held:
                current = self._usable(held.tokens)
                if current.access_token != rejected_token and not self._expiring(current):
                    self._tokens = current  # another refresher was first
                    return current.access_token
                if not current.refresh_token:
                    raise AuthError(
                        "The Constant Contact token expired and there is no refresh token"
                    )
                held.wait_for_token_slot()
                try:
                    answer = self._oauth.refresh(current.refresh_token)
                except AuthError as exc:
                    if exc.error_key != INVALID_GRANT:
                        raise
                    held.mark_broken(exc.message)  # kept: the block ends normally
                    self._tokens = replace(current, broken=exc.message)
                    refused = ConnectionBroken(exc.message)
                else:
                    new = Tokens(
                        answer.access_token,
                        answer.refresh_token or current.refresh_token,
                        self._clock.now() + timedelta(seconds=answer.expires_in),
                    )
                    try:
                        held.save(new, answer)
                    finally:
                        # The old refresh token is spent now: even when saving failed, the new
                        # ones are this process's only way on (the next rotation saves again).
                        self._tokens = new
            if refused is not None:
                raise refused
            return self._tokens.access_token

    def _usable(self, tokens: Tokens | None) -> Tokens:
        if tokens is None:
            raise AuthError("Constant Contact is no longer connected to this workspace")
        if tokens.broken is not None:
            raise ConnectionBroken(tokens.broken)
        return tokens

    def _expiring(self, tokens: Tokens) -> bool:
        return (
            tokens.expires_at is not None
            and self._clock.now() >= tokens.expires_at - REFRESH_MARGIN
        )
