"""Token sources on a FakeClock, against an OAuth2 server double that enforces rotation."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from bot.cc.errors import AuthError
from bot.cc.models import TokenResponse
from bot.cc.tokens import REFRESH_MARGIN, RefreshingTokens, StaticTokens
from bot.clock import FakeClock


class RotatingServer:
    """Issues numbered tokens; each refresh token works once (like Constant Contact's)."""

    def __init__(self, pause: float = 0.0) -> None:
        self.valid_refresh = "refresh-0"
        self.issued = 0
        self.pause = pause

    def refresh(self, refresh_token: str) -> TokenResponse:
        if refresh_token != self.valid_refresh:
            raise AuthError("invalid_grant: The refresh token is invalid or was used")
        time.sleep(self.pause)  # a slow token endpoint, so concurrent callers really overlap
        self.issued += 1
        self.valid_refresh = f"refresh-{self.issued}"
        return TokenResponse(
            access_token=f"access-{self.issued}", refresh_token=self.valid_refresh, expires_in=3600
        )


def tokens_for(
    server: RotatingServer, clock: FakeClock, persisted: list[TokenResponse]
) -> RefreshingTokens:
    return RefreshingTokens(
        server,
        "access-0",
        "refresh-0",
        expires_at=clock.now() + timedelta(hours=1),
        on_rotate=persisted.append,
        clock=clock,
    )


def test_static_tokens_cannot_refresh() -> None:
    tokens = StaticTokens("fixed")
    assert tokens.access_token() == "fixed"
    with pytest.raises(AuthError):
        tokens.refresh("fixed")


def test_a_fresh_token_is_used_as_it_is() -> None:
    clock, server = FakeClock(), RotatingServer()
    persisted: list[TokenResponse] = []
    tokens = tokens_for(server, clock, persisted)
    assert tokens.access_token() == "access-0"
    assert server.issued == 0


def test_a_token_about_to_expire_is_refreshed_and_persisted_first() -> None:
    clock, server = FakeClock(), RotatingServer()
    persisted: list[TokenResponse] = []
    tokens = tokens_for(server, clock, persisted)
    clock.advance((timedelta(hours=1) - REFRESH_MARGIN).total_seconds())
    assert tokens.access_token() == "access-1"
    assert [t.refresh_token for t in persisted] == ["refresh-1"]
    clock.advance(3600)
    assert tokens.access_token() == "access-2"  # the rotated refresh token was the one used
    assert [t.refresh_token for t in persisted] == ["refresh-1", "refresh-2"]


def test_a_401_refreshes_once_and_an_older_rejection_takes_the_new_token() -> None:
    clock, server = FakeClock(), RotatingServer()
    persisted: list[TokenResponse] = []
    tokens = tokens_for(server, clock, persisted)
    assert tokens.refresh("access-0") == "access-1"
    assert tokens.refresh("access-0") == "access-1"  # a late caller with the old token
    assert server.issued == 1


def test_concurrent_401s_cause_one_refresh() -> None:
    clock, server = FakeClock(), RotatingServer(pause=0.05)
    persisted: list[TokenResponse] = []
    tokens = tokens_for(server, clock, persisted)
    results: list[str] = []

    def caller() -> None:
        results.append(tokens.refresh("access-0"))

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["access-1"] * 6
    assert server.issued == 1
    assert len(persisted) == 1


def test_the_lock_seam_wraps_every_refresh() -> None:
    clock, server = FakeClock(), RotatingServer()
    persisted: list[TokenResponse] = []
    entered: list[str] = []

    class RecordingLock:
        def __enter__(self) -> None:
            entered.append("locked")

        def __exit__(self, *exc: object) -> None:
            entered.append("released")

    tokens = RefreshingTokens(
        server, "access-0", "refresh-0", None, persisted.append, lock=RecordingLock, clock=clock
    )
    tokens.refresh("access-0")
    assert entered == ["locked", "released"]


def test_failing_to_persist_raises_but_keeps_the_rotated_tokens() -> None:
    clock, server = FakeClock(), RotatingServer()

    def broken_store(tokens: TokenResponse) -> None:
        raise OSError("database unavailable")

    tokens = RefreshingTokens(server, "access-0", "refresh-0", None, broken_store, clock=clock)
    with pytest.raises(OSError):
        tokens.refresh("access-0")
    assert tokens.access_token() == "access-1"
    with pytest.raises(OSError):
        tokens.refresh("access-1")  # refresh-0 is spent: only the kept refresh-1 can do this
    assert server.issued == 2
    assert tokens.access_token() == "access-2"


def test_no_refresh_token_is_an_auth_error() -> None:
    tokens = RefreshingTokens(RotatingServer(), "access-0", None, None, clock=FakeClock())
    with pytest.raises(AuthError, match="no refresh token"):
        tokens.refresh("access-0")
