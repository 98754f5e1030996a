"""Rotating refresh tokens: refreshed once under a database lock, persisted before use."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.cc.client import AccountClient
from bot.cc.errors import AuthError, ConnectionBroken
from tests.support.harness import Harness

WS, USER = "T0A", "U0A"
DAY = 86_400


def spent_refresh_tokens(h: Harness) -> int:
    return sum(record.used for record in h.sandbox.state.refresh_tokens.values())


def connected_client(h: Harness, workspace_id: str = WS) -> AccountClient:
    client = h.accounts.client_for(workspace_id)
    assert client is not None
    return client


def test_an_expired_token_is_refreshed_and_the_new_ones_stored_encrypted(h: Harness) -> None:
    h.connect(WS, USER)
    before = h.connections.get(WS)
    assert before is not None and before.refresh_token_enc is not None
    old_refresh = h.cipher.decrypt(before.refresh_token_enc)
    client = connected_client(h)
    h.clock.advance(DAY)

    assert client.list_tags()

    after = h.connections.get(WS)
    assert after is not None and after.refresh_token_enc is not None
    new_refresh = h.cipher.decrypt(after.refresh_token_enc)
    assert new_refresh != old_refresh
    assert h.sandbox.state.refresh_tokens[old_refresh].used
    assert not h.sandbox.state.refresh_tokens[new_refresh].used
    assert after.expires_at == h.clock.now() + timedelta(seconds=DAY)
    assert after.refreshed_at is not None
    # A worker started afterwards finds the new tokens in the database.
    assert connected_client(h).list_tags()
    assert spent_refresh_tokens(h) == 1


def test_two_workers_refresh_once_between_them(h: Harness) -> None:
    h.connect(WS, USER)
    workers = [connected_client(h) for _ in range(4)]
    h.clock.advance(DAY)
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def work(client: AccountClient) -> None:
        start.wait()
        try:
            client.list_tags()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert spent_refresh_tokens(h) == 1


def test_a_token_rejected_early_is_refreshed_once(h: Harness) -> None:
    h.connect(WS, USER)
    stored = h.connections.get(WS)
    assert stored is not None
    h.sandbox.state.expire_token(h.cipher.decrypt(stored.access_token_enc))

    assert connected_client(h).list_tags()
    assert spent_refresh_tokens(h) == 1


def test_a_refused_refresh_token_asks_to_reconnect(h: Harness) -> None:
    h.connect(WS, USER)
    stored = h.connections.get(WS)
    assert stored is not None and stored.refresh_token_enc is not None
    refresh = h.cipher.decrypt(stored.refresh_token_enc)
    h.sandbox.state.refresh_tokens[refresh].used = True  # spent elsewhere
    h.clock.advance(DAY)

    with pytest.raises(AuthError) as refused:
        connected_client(h).list_tags()

    assert "/cctag connect" in str(refused.value)
    assert refresh not in str(refused.value)


def test_token_requests_keep_one_second_apart_across_workspaces(h: Harness) -> None:
    """The sandbox answers 429 to a second token request within a second of its clock.

    Each workspace connects an account of its own: connecting one account twice retires the
    first connection's refresh token (test_refused_refresh_marks_the_connection_broken)."""
    for workspace in ("T01", "T02", "T03"):
        h.sandbox.state.add_account(f"acct-{workspace}")
        h.connect(workspace, USER, account=f"acct-{workspace}")
    h.clock.advance(DAY)

    for workspace in ("T01", "T02", "T03"):
        assert connected_client(h, workspace).list_tags()

    assert spent_refresh_tokens(h) == 3
    assert [s for s in h.clock.sleeps if s > 0] and all(s <= 1.05 for s in h.clock.sleeps)


def test_refused_refresh_marks_the_connection_broken(h: Harness) -> None:
    """Another deployment authorizing the same account retires our refresh token: the refusal
    marks the stored connection broken, and no worker calls with it again until reconnected."""
    h.connect(WS, USER)
    h.connect("T0Z", USER)  # the same account and application, authorized again elsewhere
    h.clock.advance(DAY)

    with pytest.raises(ConnectionBroken) as refused:
        connected_client(h).list_tags()
    assert "/cctag connect" in refused.value.message
    stored = h.connections.get(WS)
    assert (
        stored is not None and stored.is_broken and "invalid_grant" in (stored.broken_reason or "")
    )

    calls = h.sandbox.state.request_count()
    for _ in range(2):  # a fresh worker and the same one: refused before any call
        with pytest.raises(ConnectionBroken):
            connected_client(h).list_tags()
    assert h.sandbox.state.request_count() == calls

    h.connect(WS, USER)
    mended = h.connections.get(WS)
    assert mended is not None and not mended.is_broken
    assert connected_client(h).list_tags()
