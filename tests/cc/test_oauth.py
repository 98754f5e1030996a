"""OAuth2 against the sandbox's server: PKCE code flow, rotating refresh, refresh on 401."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.cc.errors import AuthError
from bot.cc.models import TokenResponse
from bot.cc.oauth import OAuthClient, pkce_pair
from bot.cc.tokens import RefreshingTokens
from tests.cc.conftest import World

REDIRECT = "http://localhost:3000/cc/oauth/callback"


def oauth_for(world: World, secret: str = "sandbox-secret") -> OAuthClient:
    return OAuthClient(world.server.auth_url, "sandbox-client", secret, clock=world.clock)


def connect(world: World, oauth: OAuthClient) -> TokenResponse:
    """The browser's part: follow the authorization URL, take the code off the redirect."""
    verifier, challenge = pkce_pair()
    url = oauth.authorization_url(
        REDIRECT, "state-123", challenge, ["contact_data", "offline_access"]
    )
    redirect = httpx.get(url, follow_redirects=False)
    assert redirect.status_code == 302
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert query["state"] == ["state-123"]
    return oauth.exchange_code(query["code"][0], REDIRECT, verifier)


def test_pkce_pair_is_s256() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert pkce_pair()[0] != verifier


def test_authorization_url_names_everything(world: World) -> None:
    url = oauth_for(world).authorization_url(REDIRECT, "s", "c", ["contact_data", "account_read"])
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{world.server.auth_url}/authorize"
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["sandbox-client"],
        "redirect_uri": [REDIRECT],
        "scope": ["contact_data account_read"],
        "state": ["s"],
        "code_challenge": ["c"],
        "code_challenge_method": ["S256"],
    }


def test_code_exchange_and_rotation_refuse_a_used_refresh_token(world: World) -> None:
    oauth = oauth_for(world)
    first = connect(world, oauth)
    assert first.refresh_token and first.expires_in == 86_400
    second = oauth.refresh(first.refresh_token)
    assert second.refresh_token not in (None, first.refresh_token)
    with pytest.raises(AuthError, match="invalid_grant"):
        oauth.refresh(first.refresh_token)
    assert world.requests("/oauth2/default/v1/token", "POST") == 3  # none throttled
    assert world.clock.monotonic() >= 2.0  # one token request a second


def test_a_wrong_code_verifier_and_a_wrong_secret_are_auth_errors(world: World) -> None:
    oauth = oauth_for(world)
    _, challenge = pkce_pair()
    url = oauth.authorization_url(REDIRECT, "s", challenge, ["contact_data"])
    code = parse_qs(urlsplit(httpx.get(url).headers["location"]).query)["code"][0]
    with pytest.raises(AuthError, match="invalid_grant: PKCE verification failed"):
        oauth.exchange_code(code, REDIRECT, "not-the-verifier")
    with pytest.raises(AuthError, match="invalid_client"):
        oauth_for(world, secret="wrong").refresh("anything")


def test_a_401_refreshes_rotates_persists_and_retries_once(world: World) -> None:
    oauth = oauth_for(world)
    issued = connect(world, oauth)
    assert issued.refresh_token is not None
    persisted: list[TokenResponse] = []
    tokens = RefreshingTokens(
        oauth,
        issued.access_token,
        issued.refresh_token,
        expires_at=world.clock.now() + timedelta(hours=24),
        on_rotate=persisted.append,
        clock=world.clock,
    )
    account = world.api.for_account(tokens)
    assert len(account.list_tags()) == 4
    world.server.faults.expire_token(issued.access_token)
    assert len(account.list_tags()) == 4
    assert [t.access_token for t in persisted] == [tokens.access_token()]
    assert world.requests("/v3/contact_tags", "GET") == 3  # ok, 401, retried
    # the persisted refresh token is the one the server will take next
    assert oauth.refresh(persisted[-1].refresh_token or "").access_token


def test_a_refresh_token_that_was_used_elsewhere_means_reconnect(world: World) -> None:
    oauth = oauth_for(world)
    issued = connect(world, oauth)
    assert issued.refresh_token is not None
    oauth.refresh(issued.refresh_token)  # another process rotated it
    tokens = RefreshingTokens(
        oauth, issued.access_token, issued.refresh_token, None, clock=world.clock
    )
    world.server.faults.expire_token(issued.access_token)
    with pytest.raises(AuthError, match="Unauthorized: invalid_grant"):
        world.api.for_account(tokens).list_tags()


def test_an_expiring_token_is_refreshed_before_the_call(world: World) -> None:
    oauth = oauth_for(world)
    issued = connect(world, oauth)
    tokens = RefreshingTokens(
        oauth,
        issued.access_token,
        issued.refresh_token,
        expires_at=world.clock.now() + timedelta(minutes=1),
        clock=world.clock,
    )
    world.api.for_account(tokens).list_tags()
    assert tokens.access_token() != issued.access_token
    assert world.requests("/v3/contact_tags", "GET") == 1  # no 401 was needed
