"""A connected account's tokens, kept in the database and refreshed across processes.

Refresh tokens rotate (each works once), so a refresh happens under a lock on the connection
row: the second of two workers waiting there finds the tokens the first one saved and uses
them instead of spending the old refresh token. The new tokens are committed before the new
access token is used. Every token request takes the shared one-per-second slot.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from bot.cc.client import AccountClient, CCApi
from bot.cc.errors import AuthError
from bot.cc.models import TokenResponse
from bot.cc.tokens import REFRESH_MARGIN, Refresher
from bot.clock import Clock
from bot.crypto import TokenCipher
from bot.store.connections import ConnectionRepository, StoredConnection

RECONNECT = "Constant Contact refused the stored authorization; type /cctag connect to reconnect"


def expires_at(tokens: TokenResponse, now: datetime) -> datetime:
    return now + timedelta(seconds=tokens.expires_in)


class StoredTokens:
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
        self._workspace_id = workspace_id
        self._connections = connections
        self._oauth = oauth
        self._cipher = cipher
        self._clock = clock
        self._thread_lock = threading.Lock()
        self._adopt(connection)

    def _adopt(self, connection: StoredConnection) -> None:
        self._access = self._cipher.decrypt(connection.access_token_enc)
        self._expires_at = connection.expires_at

    def _expiring(self, expires: datetime | None) -> bool:
        return expires is not None and self._clock.now() >= expires - REFRESH_MARGIN

    def access_token(self) -> str:
        if self._expiring(self._expires_at):
            return self.refresh(self._access)
        return self._access

    def refresh(self, rejected_token: str) -> str:
        with self._thread_lock, self._connections.locked(self._workspace_id) as held:
            row = held.row
            if row is None:
                raise AuthError("Constant Contact is no longer connected to this workspace")
            current = self._cipher.decrypt(row.access_token_enc)
            if current != rejected_token and not self._expiring(row.expires_at):
                self._adopt(row)  # another worker refreshed while we waited
                return current
            if row.refresh_token_enc is None:
                raise AuthError(RECONNECT, status=401)
            held.wait_for_token_slot()
            try:
                tokens = self._oauth.refresh(self._cipher.decrypt(row.refresh_token_enc))
            except AuthError:
                raise AuthError(RECONNECT, status=401) from None
            new_refresh = tokens.refresh_token
            held.save_tokens(
                self._cipher.encrypt(tokens.access_token),
                self._cipher.encrypt(new_refresh) if new_refresh else row.refresh_token_enc,
                expires_at(tokens, self._clock.now()),
            )
        # Committed when the block ended: only now is the new token used.
        self._access = tokens.access_token
        self._expires_at = expires_at(tokens, self._clock.now())
        return self._access


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
