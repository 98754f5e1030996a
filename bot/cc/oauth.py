"""OAuth2 with Constant Contact: authorization code flow with PKCE (S256) and state, refresh.

The token endpoint allows 1 request per second, so every token request waits its turn.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from urllib.parse import urlencode

import httpx
from httpx import USE_CLIENT_DEFAULT

from bot.cc.errors import AuthError, RateLimited, Timeout, TransportError
from bot.cc.models import TokenResponse
from bot.cc.ratelimit import TokenBucketLimiter
from bot.clock import SYSTEM_CLOCK, Clock

# campaign_data: campaigns and their reports, the sources of "who clicked / opened / bounced".
DEFAULT_SCOPES = ("contact_data", "campaign_data", "offline_access", "account_read")
TOKEN_REQUESTS_PER_SECOND = 1.0
# The token endpoint has no daily quota of its own; this only keeps the limiter's count sane.
_NO_DAILY_QUOTA = 10**9


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuthClient:
    def __init__(
        self,
        auth_url: str,
        client_id: str,
        client_secret: str | None,
        http: httpx.Client | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._auth_url = auth_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = http or httpx.Client(timeout=10.0)
        self._limiter = TokenBucketLimiter(
            TOKEN_REQUESTS_PER_SECOND, daily_quota=_NO_DAILY_QUOTA, clock=clock
        )

    def authorization_url(
        self,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
    ) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "scope": " ".join(scopes),
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self._auth_url}/authorize?{query}"

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> TokenResponse:
        return self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    def refresh(self, refresh_token: str) -> TokenResponse:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _token(self, form: dict[str, str]) -> TokenResponse:
        try:
            return self._token_once(form)
        except RateLimited:
            # Another process of the application used the second: one more try after it.
            self._limiter.hold_off(1.0 / TOKEN_REQUESTS_PER_SECOND)
            return self._token_once(form)

    def _token_once(self, form: dict[str, str]) -> TokenResponse:
        self._limiter.acquire()
        auth: httpx.Auth | None = None
        if self._client_secret:
            auth = httpx.BasicAuth(self._client_id, self._client_secret)
        else:
            form = {**form, "client_id": self._client_id}  # a public client (PKCE only)
        try:
            response = self._http.post(
                f"{self._auth_url}/token", data=form, auth=auth or USE_CLIENT_DEFAULT
            )
        except httpx.TimeoutException:
            raise Timeout("Constant Contact's token endpoint did not answer in time") from None
        except httpx.TransportError as exc:
            raise TransportError(f"Constant Contact's token endpoint: {exc}") from None
        if response.status_code == 429:
            raise RateLimited("Too many token requests", error_key="throttled")
        if response.status_code != 200:
            error, message = _oauth_error(response)
            raise AuthError(message, status=response.status_code, error_key=error)
        try:
            return TokenResponse.model_validate(response.json())
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too
            raise AuthError(f"The token endpoint answered something else: {exc}") from None


def _oauth_error(response: httpx.Response) -> tuple[str, str]:
    """(RFC 6749 error code, message) of a refused token request."""
    try:
        body = response.json()
    except ValueError:
        return "", f"token endpoint answered {response.status_code}"
    if isinstance(body, dict):
        error = str(body.get("error", "error"))
        description = body.get("error_description")
        return error, f"{error}: {description}" if description else error
    return "", f"token endpoint answered {response.status_code}"
