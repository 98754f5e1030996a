"""OAuth2 at /oauth2/default/v1: authorization code (with PKCE S256) and rotating refresh tokens.

`GET /authorize` approves at once (no login page) and redirects with `code` and `state`;
an unknown client or a redirect_uri it may not use gets a 400 page, never a redirect.
`POST /token` authenticates the client by HTTP Basic or by form fields; a code whose
authorization carried a PKCE challenge may be redeemed by a public client (no secret).
Refresh tokens are issued when the scope holds `offline_access` and rotate: each is single use.
A new authorization of the same account by the same application retires every refresh token
issued before it (as Constant Contact does: a second deployment connecting disconnects the first).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot.devkit.sandbox.state import (
    DEMO_ACCOUNT_ID,
    TOKEN_ENDPOINT_RATE,
    TOKEN_LIFETIME_SECONDS,
    AuthCode,
    ClientRecord,
    RefreshRecord,
    SandboxState,
)

CODE_LIFETIME_SECONDS = 600
DEFAULT_SCOPE = "contact_data offline_access"
LOCAL_HOSTS = ("localhost", "127.0.0.1")


class OAuthError(Exception):
    """An RFC 6749 error answer: {"error": ..., "error_description": ...}."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class AuthorizePageError(Exception):
    """Refused before any redirect is safe: shown as a 400 page."""


@dataclass
class Redirect:
    location: str


def pkce_challenge(verifier: str) -> str:
    """The S256 code_challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def redirect_allowed(client: ClientRecord, redirect_uri: str) -> bool:
    if client.redirect_uris is not None:
        return redirect_uri in client.redirect_uris
    parts = urlsplit(redirect_uri)
    return parts.scheme in ("http", "https") and parts.hostname in LOCAL_HOSTS


def _with_query(uri: str, params: Mapping[str, str]) -> str:
    joiner = "&" if urlsplit(uri).query else "?"
    return f"{uri}{joiner}{urlencode(params)}"


# ---------------------------------------------------------------- authorize


def authorize(state: SandboxState, query: Mapping[str, str]) -> Redirect:
    client = state.clients.get(query.get("client_id", ""))
    if client is None:
        raise AuthorizePageError("Unknown client_id: this application is not registered.")
    redirect_uri = query.get("redirect_uri", "")
    if not redirect_allowed(client, redirect_uri):
        raise AuthorizePageError("The redirect_uri is not registered for this application.")
    account_id = query.get("account") or DEMO_ACCOUNT_ID
    if account_id not in state.accounts:
        raise AuthorizePageError(f"Unknown sandbox account {account_id!r}.")
    passed = {"state": query["state"]} if "state" in query else {}
    problem = _authorize_problem(query)
    if problem is not None:
        error, description = problem
        params = {"error": error, "error_description": description, **passed}
        return Redirect(_with_query(redirect_uri, params))
    code = AuthCode(
        code=secrets.token_urlsafe(24),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        account_id=account_id,
        scope=query.get("scope") or DEFAULT_SCOPE,
        code_challenge=query.get("code_challenge") or None,
        expires_at=state.clock.monotonic() + CODE_LIFETIME_SECONDS,
    )
    state.codes[code.code] = code
    return Redirect(_with_query(redirect_uri, {"code": code.code, **passed}))


def _authorize_problem(query: Mapping[str, str]) -> tuple[str, str] | None:
    if query.get("response_type") != "code":
        return "unsupported_response_type", "response_type must be code"
    if query.get("code_challenge") and query.get("code_challenge_method", "S256") != "S256":
        return "invalid_request", "code_challenge_method must be S256"
    return None


# ---------------------------------------------------------------- token


def token(
    state: SandboxState, form: Mapping[str, str], basic: tuple[str, str] | None
) -> dict[str, Any]:
    client_id, secret = basic if basic else (form.get("client_id", ""), form.get("client_secret"))
    client = state.clients.get(client_id)
    if client is None or (secret is not None and not secrets.compare_digest(secret, client.secret)):
        raise OAuthError(401, "invalid_client", "Client authentication failed")
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return _redeem_code(state, client, form, authenticated=secret is not None)
    if grant_type == "refresh_token":
        return _refresh(state, client, form, authenticated=secret is not None)
    raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")


def token_rate_key(form: Mapping[str, str], basic: tuple[str, str] | None) -> str:
    return "token:" + (basic[0] if basic else form.get("client_id", ""))


def token_rate() -> float:
    return TOKEN_ENDPOINT_RATE


def _redeem_code(
    state: SandboxState, client: ClientRecord, form: Mapping[str, str], *, authenticated: bool
) -> dict[str, Any]:
    code = state.codes.pop(form.get("code", ""), None)  # single use, even when refused
    if code is None or state.clock.monotonic() >= code.expires_at:
        raise OAuthError(400, "invalid_grant", "The authorization code is invalid or expired")
    if code.client_id != client.client_id:
        raise OAuthError(400, "invalid_grant", "The code was issued to another client")
    if form.get("redirect_uri", "") != code.redirect_uri:
        raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization")
    if code.code_challenge is not None:
        verifier = form.get("code_verifier", "")
        if not verifier or pkce_challenge(verifier) != code.code_challenge:
            raise OAuthError(400, "invalid_grant", "PKCE verification failed")
    elif not authenticated:
        raise OAuthError(401, "invalid_client", "A client secret or PKCE is required")
    _retire_refresh_tokens(state, client.client_id, code.account_id)
    return _issue(state, client.client_id, code.account_id, code.scope, public=not authenticated)


def _retire_refresh_tokens(state: SandboxState, client_id: str, account_id: str) -> None:
    for record in state.refresh_tokens.values():
        if record.client_id == client_id and record.account_id == account_id:
            record.used = True


def _refresh(
    state: SandboxState, client: ClientRecord, form: Mapping[str, str], *, authenticated: bool
) -> dict[str, Any]:
    record = state.refresh_tokens.get(form.get("refresh_token", ""))
    if record is None or record.used or record.client_id != client.client_id:
        raise OAuthError(400, "invalid_grant", "The refresh token is invalid or was used")
    if not authenticated and not record.public:
        raise OAuthError(401, "invalid_client", "Client authentication failed")
    record.used = True
    return _issue(state, client.client_id, record.account_id, record.scope, public=record.public)


def _issue(
    state: SandboxState, client_id: str, account_id: str, scope: str, *, public: bool
) -> dict[str, Any]:
    access = secrets.token_urlsafe(32)
    state.add_access_token(access, account_id, client_id=client_id, scope=scope)
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_SECONDS,
        "access_token": access,
        "scope": scope,
    }
    if "offline_access" in scope.split():
        refresh = secrets.token_urlsafe(32)
        state.refresh_tokens[refresh] = RefreshRecord(
            refresh, client_id, account_id, scope, public=public
        )
        body["refresh_token"] = refresh
    return body


def parse_basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None
