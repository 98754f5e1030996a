"""A connected account's tokens, kept in the database and refreshed across processes.

The refresh itself is bot.cc.tokens.RefreshingTokens; this is its vault over the connection
row. Refresh tokens rotate (each works once), so a refresh happens under a lock on the row: the
second of two workers waiting there finds the tokens the first one saved. The new tokens are
committed before the new access token is used. Every token request takes the shared
one-per-second slot. A refused refresh token marks the row broken (committed with the lock's
transaction), so no worker spends calls on it until the workspace connects again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from bot.cc.client import AccountClient, CCApi
from bot.cc.models import TokenResponse
from bot.cc.tokens import HeldTokens, Refresher, RefreshingTokens, Tokens
from bot.clock import Clock
from bot.crypto import TokenCipher
from bot.store.connections import ConnectionRepository, HeldConnection, StoredConnection


def expires_at(tokens: TokenResponse, now: datetime) -> datetime:
    return now + timedelta(seconds=tokens.expires_in)


class _HeldRow:
    def __init__(self, held: HeldConnection, cipher: TokenCipher) -> None:
        self._held = held
        self._cipher = cipher
        self.tokens = _tokens(held.row, cipher) if held.row is not None else None

    def wait_for_token_slot(self) -> None:
        self._held.wait_for_token_slot()

    def save(self, tokens: Tokens, answer: TokenResponse) -> None:
        refresh = tokens.refresh_token
        self._held.save_tokens(
            self._cipher.encrypt(tokens.access_token),
            self._cipher.encrypt(refresh) if refresh else None,
            tokens.expires_at,
        )

    def mark_broken(self, reason: str) -> None:
        self._held.mark_broken(reason)


def _tokens(row: StoredConnection, cipher: TokenCipher) -> Tokens:
    refresh = cipher.decrypt(row.refresh_token_enc) if row.refresh_token_enc else None
    return Tokens(cipher.decrypt(row.access_token_enc), refresh, row.expires_at, row.broken_reason)


class ConnectionVault:
    """bot.cc.tokens.TokenVault over one workspace's stored connection."""

    def __init__(
        self, workspace_id: str, connections: ConnectionRepository, cipher: TokenCipher
    ) -> None:
        self._workspace_id = workspace_id
        self._connections = connections
        self._cipher = cipher

    @contextmanager
    def refreshing(self) -> Iterator[HeldTokens]:
        with self._connections.locked(self._workspace_id) as held:
            yield _HeldRow(held, self._cipher)


class StoredTokens(RefreshingTokens):
    """bot.cc.ports.TokenSource of one workspace's connection."""

    def __init__(
        self,
        workspace_id: str,
        connection: StoredConnection,
        connections: ConnectionRepository,
        oauth: Refresher,
        cipher: TokenCipher,
        clock: Clock,
    ) -> None:
        vault = ConnectionVault(workspace_id, connections, cipher)
        self._setup(oauth, vault, _tokens(connection, cipher), clock)


class ConnectedAccounts:
    """bot.ports.Accounts for OAuth connections: None when the workspace is not connected."""

    def __init__(
        self,
        api: CCApi,
        connections: ConnectionRepository,
        oauth: Refresher,
        cipher: TokenCipher,
        clock: Clock,
    ) -> None:
        self._api = api
        self._connections = connections
        self._oauth = oauth
        self._cipher = cipher
        self._clock = clock

    def client_for(self, workspace_id: str) -> AccountClient | None:
        connection = self._connections.get(workspace_id)
        if connection is None:
            return None
        tokens = StoredTokens(
            workspace_id, connection, self._connections, self._oauth, self._cipher, self._clock
        )
        return self._api.for_account(tokens, account_key=workspace_id)
