"""Connecting a workspace to a Constant Contact account: OAuth2 code flow with PKCE and state.

`start_connect` issues a single-use `state` bound to the workspace and the user (stored as its
SHA-256, expiring, with the PKCE verifier encrypted) and answers the authorization link.
`finish_connect` takes the callback's query, spends the state once, exchanges the code with
the verifier, and stores the tokens encrypted. No Slack payloads, no HTTP requests in here.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.cc.client import CCApi
from bot.cc.errors import CCError
from bot.cc.models import TokenResponse
from bot.cc.oauth import DEFAULT_SCOPES, pkce_pair
from bot.cc.tokens import StaticTokens
from bot.clock import Clock
from bot.connect.tokens import expires_at
from bot.crypto import TokenCipher
from bot.store.connections import ConnectionRepository, StateCheck, StoredConnection

CALLBACK_PATH = "/cc/oauth/callback"
STATE_LIFETIME = timedelta(minutes=10)

_log = logging.getLogger(__name__)


class Auditor(Protocol):
    """bot.store.Store.audit."""

    def audit(
        self, *, workspace_id: str, user_id: str, action: str, detail: str, outcome: str
    ) -> None: ...


class TokenExchanger(Protocol):
    """What the flow needs of bot.cc.oauth.OAuthClient."""

    def authorization_url(
        self, redirect_uri: str, state: str, code_challenge: str, scopes: tuple[str, ...]
    ) -> str: ...

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> TokenResponse: ...


class ConnectOutcome(StrEnum):
    CONNECTED = "connected"
    DENIED = "denied"  # the user declined on Constant Contact's page
    INVALID_STATE = "invalid_state"  # expired, or never issued by us (forged)
    REPLAYED = "replayed"  # the state was already spent
    ERROR = "error"


@dataclass(frozen=True)
class ConnectResult:
    outcome: ConnectOutcome
    workspace_id: str = ""
    user_id: str = ""
    account_name: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class ConnectionInfo:
    """What the App Home and /cctag status show of a connection (no tokens)."""

    account_name: str | None
    connected_by: str
    connected_at: datetime


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class ConnectFlow:
    def __init__(
        self,
        connections: ConnectionRepository,
        oauth: TokenExchanger,
        api: CCApi,
        cipher: TokenCipher,
        clock: Clock,
        public_url: str,
        auditor: Auditor | None = None,
    ) -> None:
        self._connections = connections
        self._oauth = oauth
        self._api = api
        self._cipher = cipher
        self._clock = clock
        self.redirect_uri = public_url.rstrip("/") + CALLBACK_PATH
        self._auditor = auditor

    def start_connect(self, workspace_id: str, user_id: str) -> str:
        """The link that starts the authorization; it works once, for ten minutes."""
        state = secrets.token_urlsafe(32)
        verifier, challenge = pkce_pair()
        self._connections.add_state(
            state_hash(state),
            workspace_id,
            user_id,
            self._cipher.encrypt(verifier),
            self._clock.now() + STATE_LIFETIME,
        )
        self._audit(workspace_id, user_id, "connect_started", "", "link issued")
        return self._oauth.authorization_url(self.redirect_uri, state, challenge, DEFAULT_SCOPES)

    def finish_connect(
        self, code: str | None, state: str | None, error: str | None = None
    ) -> ConnectResult:
        """The callback: `code`, `state` and `error` exactly as Constant Contact sent them."""
        if not state:
            return ConnectResult(ConnectOutcome.INVALID_STATE, reason="no state")
        taken = self._connections.take_state(state_hash(state))
        if taken.check is not StateCheck.ACCEPTED:
            return self._refused_state(taken.check, taken.workspace_id, taken.user_id)
        workspace_id, user_id = taken.workspace_id, taken.user_id
        if error or not code:
            return self._not_granted(workspace_id, user_id, error or "no code")
        try:
            tokens = self._exchange(code, self._cipher.decrypt(taken.verifier_enc))
        except CCError as exc:
            self._audit(workspace_id, user_id, "connect", exc.message, "refused")
            return ConnectResult(
                ConnectOutcome.ERROR, workspace_id, user_id, reason=_exchange_failure(exc)
            )
        name = self._account_name(tokens.access_token)
        self._save(workspace_id, user_id, tokens, name)
        self._audit(workspace_id, user_id, "connect", name or "", "connected")
        return ConnectResult(ConnectOutcome.CONNECTED, workspace_id, user_id, name)

    def disconnect(self, workspace_id: str, user_id: str) -> bool:
        """Forget the workspace's tokens; False when it was not connected."""
        removed = self._connections.delete(workspace_id)
        outcome = "disconnected" if removed else "was not connected"
        self._audit(workspace_id, user_id, "disconnect", "", outcome)
        return removed

    def connection_info(self, workspace_id: str) -> ConnectionInfo | None:
        found = self._connections.get(workspace_id)
        if found is None:
            return None
        return ConnectionInfo(found.account_name, found.connected_by, found.connected_at)

    # ------------------------------------------------------------------ steps
    def _refused_state(self, check: StateCheck, workspace_id: str, user_id: str) -> ConnectResult:
        if check is StateCheck.USED:
            self._audit(workspace_id, user_id, "connect", "state used again", "refused")
            return ConnectResult(ConnectOutcome.REPLAYED, workspace_id, user_id)
        if check is StateCheck.EXPIRED:
            self._audit(workspace_id, user_id, "connect", "state expired", "refused")
        return ConnectResult(ConnectOutcome.INVALID_STATE, reason=check.value)

    def _not_granted(self, workspace_id: str, user_id: str, error: str) -> ConnectResult:
        self._audit(workspace_id, user_id, "connect", error[:200], "refused")
        if error == "access_denied":
            return ConnectResult(ConnectOutcome.DENIED, workspace_id, user_id)
        return ConnectResult(
            ConnectOutcome.ERROR,
            workspace_id,
            user_id,
            reason="Constant Contact did not authorize the connection.",
        )

    def _exchange(self, code: str, verifier: str) -> TokenResponse:
        with self._connections.token_slot():
            return self._oauth.exchange_code(code, self.redirect_uri, verifier)

    def _account_name(self, access_token: str) -> str | None:
        """The account's name (scope account_read); None when it cannot be read."""
        try:
            response = self._api.request(
                StaticTokens(access_token), "GET", "/account/summary", retry_unsafe=True
            )
            name = response.json().get("organization_name")
        except (CCError, ValueError, AttributeError):
            _log.info("account name unavailable after connecting")
            return None
        return str(name) if name else None

    def _save(
        self, workspace_id: str, user_id: str, tokens: TokenResponse, name: str | None
    ) -> None:
        now = self._clock.now()
        refresh = tokens.refresh_token
        self._connections.save(
            StoredConnection(
                workspace_id=workspace_id,
                account_name=name,
                access_token_enc=self._cipher.encrypt(tokens.access_token),
                refresh_token_enc=self._cipher.encrypt(refresh) if refresh else None,
                expires_at=expires_at(tokens, now),
                connected_by=user_id,
                connected_at=now,
            )
        )

    def _audit(
        self, workspace_id: str, user_id: str, action: str, detail: str, outcome: str
    ) -> None:
        if self._auditor is not None:
            self._auditor.audit(
                workspace_id=workspace_id,
                user_id=user_id,
                action=action,
                detail=detail,
                outcome=outcome,
            )


def _exchange_failure(exc: CCError) -> str:
    if "invalid_grant" in exc.message:
        return "The authorization was refused or had expired."
    return "Constant Contact's authorization server could not be reached or refused the request."
