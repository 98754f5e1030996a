"""OAuth2 with the sandbox: PKCE code flow, refresh on 401, rotation, one refresh for many.

The sandbox runs on a FakeClock shared with the OAuth client, whose token-endpoint limiter
(1 request a second) then moves the sandbox's time instead of sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.cc.errors import AuthError, CCError, ConnectionBroken, Unauthorized
from bot.cc.models import TokenResponse
from bot.cc.oauth import DEFAULT_SCOPES, OAuthClient, pkce_pair
from bot.cc.tokens import RefreshingTokens
from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from tests.support.cc import UNLIMITED, Rig, Tenant, Traffic, make_rig

REDIRECT = "http://localhost:3000/cc/oauth/callback"


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def auth_sb(clock: FakeClock) -> Iterator[SandboxServer]:
    with SandboxServer(activity_seconds=5.0, rate_per_second=UNLIMITED, clock=clock) as server:
        yield server


@dataclass
class App:
    """An OAuth2 application registered with the sandbox, for one test."""

    sb: SandboxServer
    clock: FakeClock
    client_id: str
    secret: str | None
    oauth: OAuthClient
    rotations: list[TokenResponse] = field(default_factory=list)

    def connect(self) -> TokenResponse:
        verifier, challenge = pkce_pair()
        url = self.oauth.authorization_url(REDIRECT, "st4te", challenge)
        answer = httpx.get(url, follow_redirects=False)
        assert answer.status_code == 302, answer.text
        location = urlsplit(answer.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
        query = parse_qs(location.query)
        assert query["state"] == ["st4te"]
        return self.oauth.exchange_code(query["code"][0], REDIRECT, verifier)

    def tokens(
        self, first: TokenResponse, on_rotate: Callable[[TokenResponse], None] | None = None
    ) -> RefreshingTokens:
        def persist(tokens: TokenResponse) -> None:
            self.rotations.append(tokens)
            if on_rotate is not None:
                on_rotate(tokens)

        return RefreshingTokens(
            self.oauth,
            first.access_token,
            first.refresh_token,
            self.clock.now() + timedelta(seconds=first.expires_in),
            on_rotate=persist,
            clock=self.clock,
        )

    def rig(self, tokens: RefreshingTokens) -> Rig:
        account = self.sb.state.account()
        tenant = Tenant(self.sb, account, "unused", self.client_id)
        return make_rig(tenant, tokens=tokens)


def new_app(sb: SandboxServer, clock: FakeClock, public: bool = False) -> App:
    client_id = f"app-{uuid.uuid4().hex[:8]}"
    secret = f"secret-{uuid.uuid4().hex[:8]}"
    sb.state.register_client(client_id, secret)
    oauth = OAuthClient(sb.auth_url, client_id, None if public else secret, clock=clock)
    return App(sb, clock, client_id, None if public else secret, oauth)


@pytest.fixture
def app(auth_sb: SandboxServer, clock: FakeClock) -> Iterator[App]:
    yield new_app(auth_sb, clock)
    auth_sb.faults.clear()


def token_posts(traffic: Traffic) -> int:
    return traffic.count("/oauth2/default/v1/token", "POST")


# ---------------------------------------------------------------- authorization URL, PKCE


def test_pkce_pair_is_s256() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    assert challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert pkce_pair()[0] != verifier


def test_authorization_url_carries_s256_state_and_scopes() -> None:
    oauth = OAuthClient("https://authz.example.com/oauth2/default/v1/", "my-app", "s3cret")
    url = oauth.authorization_url(REDIRECT, "state-123", "challenge-abc")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://authz.example.com/oauth2/default/v1/authorize"
    )
    query = parse_qs(parts.query)
    assert query == {
        "response_type": ["code"],
        "client_id": ["my-app"],
        "redirect_uri": [REDIRECT],
        "scope": [" ".join(DEFAULT_SCOPES)],
        "state": ["state-123"],
        "code_challenge": ["challenge-abc"],
        "code_challenge_method": ["S256"],
    }
    assert {"contact_data", "offline_access"} <= set(DEFAULT_SCOPES)
    assert "s3cret" not in url
    custom = parse_qs(urlsplit(oauth.authorization_url(REDIRECT, "s", "c", ["a", "b"])).query)
    assert custom["scope"] == ["a b"]


def test_code_flow_gives_tokens_the_api_accepts(app: App, auth_sb: SandboxServer) -> None:
    tokens = app.connect()
    assert tokens.access_token and tokens.refresh_token and tokens.expires_in == 86_400
    rig = make_rig(Tenant(auth_sb, auth_sb.state.account(), tokens.access_token, app.client_id))
    assert len(rig.cc.list_tags()) == 4


def test_public_client_uses_pkce_without_a_secret(auth_sb: SandboxServer, clock: FakeClock) -> None:
    app = new_app(auth_sb, clock, public=True)
    first = app.connect()
    again = app.oauth.refresh(first.refresh_token or "")
    assert again.access_token != first.access_token


def test_wrong_pkce_verifier_is_refused(app: App) -> None:
    _, challenge = pkce_pair()
    answer = httpx.get(app.oauth.authorization_url(REDIRECT, "s", challenge))
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    wrong_verifier, _ = pkce_pair()
    with pytest.raises(AuthError) as caught:
        app.oauth.exchange_code(code, REDIRECT, wrong_verifier)
    assert caught.value.status == 400
    assert caught.value.message == "invalid_grant: PKCE verification failed"


def test_wrong_client_secret_is_refused(app: App) -> None:
    wrong = OAuthClient(app.sb.auth_url, app.client_id, "wrong-secret", clock=app.clock)
    with pytest.raises(AuthError, match="invalid_client"):
        wrong.refresh("anything")


def test_token_requests_are_spaced_one_a_second(
    app: App, auth_sb: SandboxServer, clock: FakeClock
) -> None:
    traffic = Traffic(auth_sb)
    start = clock.monotonic()
    first = app.connect()
    second = app.oauth.refresh(first.refresh_token or "")
    with pytest.raises(AuthError, match="invalid_grant"):
        app.oauth.refresh(first.refresh_token or "")
    assert second.refresh_token not in (None, first.refresh_token)
    assert token_posts(traffic) == 3  # none throttled
    assert clock.monotonic() - start >= 2.0  # one token request a second


# ---------------------------------------------------------------- refresh


def test_401_refreshes_once_persists_the_rotation_and_succeeds(
    app: App, auth_sb: SandboxServer
) -> None:
    first = app.connect()
    seen_at_rotation: list[int] = []
    traffic = Traffic(auth_sb)
    tokens = app.tokens(
        first, on_rotate=lambda _: seen_at_rotation.append(traffic.count("/v3/contact_tags"))
    )
    rig = app.rig(tokens)
    auth_sb.faults.expire_token(first.access_token)

    assert len(rig.cc.list_tags()) == 4
    assert token_posts(traffic) == 1
    assert traffic.count("/v3/contact_tags", "GET") == 2  # the 401, then the retry
    assert len(app.rotations) == 1
    rotated = app.rotations[0]
    assert rotated.refresh_token and rotated.refresh_token != first.refresh_token
    assert tokens.access_token() == rotated.access_token != first.access_token
    # Persisted before the new token was used: only the refused request had been sent.
    assert seen_at_rotation == [1]

    with pytest.raises(AuthError) as caught:
        app.oauth.refresh(first.refresh_token or "")
    assert caught.value.status == 400
    assert caught.value.message.startswith("invalid_grant")
    # The persisted one is the one that works.
    assert app.oauth.refresh(rotated.refresh_token).access_token


def test_concurrent_401s_cause_one_refresh(app: App, auth_sb: SandboxServer) -> None:
    first = app.connect()
    tokens = app.tokens(first)
    rig = app.rig(tokens)
    auth_sb.faults.expire_token(first.access_token)
    # Both requests are in flight with the expired token before either 401 comes back.
    auth_sb.faults.delay(0.2, path="/v3/contact_tags", method="GET", times=2)
    traffic = Traffic(auth_sb)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[CCError] = []

    def call() -> None:
        barrier.wait()
        try:
            results.append(len(rig.cc.list_tags()))
        except CCError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == [] and results == [4, 4]
    assert traffic.count("/v3/contact_tags", "GET") == 4  # two 401s, two retries
    assert token_posts(traffic) == 1
    assert len(app.rotations) == 1


def test_token_about_to_expire_is_refreshed_before_any_401(
    app: App, auth_sb: SandboxServer, clock: FakeClock
) -> None:
    first = app.connect()
    tokens = app.tokens(first)
    rig = app.rig(tokens)
    clock.advance(first.expires_in - 240)  # 4 minutes left: inside the 5-minute margin
    traffic = Traffic(auth_sb)
    assert len(rig.cc.list_tags()) == 4
    assert token_posts(traffic) == 1
    assert traffic.count("/v3/contact_tags", "GET") == 1  # no 401 on the way
    assert len(app.rotations) == 1


def test_new_token_refused_too_is_unauthorized_after_one_refresh(
    app: App, auth_sb: SandboxServer
) -> None:
    first = app.connect()
    tokens = app.tokens(first, on_rotate=lambda t: auth_sb.faults.expire_token(t.access_token))
    rig = app.rig(tokens)
    auth_sb.faults.expire_token(first.access_token)
    traffic = Traffic(auth_sb)
    with pytest.raises(Unauthorized) as caught:
        rig.cc.list_tags()
    assert caught.value.status == 401
    assert caught.value.message == "Unauthorized"
    assert caught.value.error_key == "unauthorized"
    assert token_posts(traffic) == 1  # no refresh loop
    assert traffic.count("/v3/contact_tags", "GET") == 2


def test_spent_refresh_token_breaks_the_connection_and_says_to_reconnect(
    app: App, auth_sb: SandboxServer
) -> None:
    first = app.connect()
    app.oauth.refresh(first.refresh_token or "")  # another process rotated it
    tokens = app.tokens(first)
    rig = app.rig(tokens)
    auth_sb.faults.expire_token(first.access_token)
    with pytest.raises(ConnectionBroken) as caught:
        rig.cc.list_tags()
    assert isinstance(caught.value, AuthError) and isinstance(caught.value, Unauthorized)
    assert "/cctag connect" in caught.value.message
    assert "invalid_grant" in caught.value.detail
    assert app.rotations == []
    calls = auth_sb.state.request_count()
    with pytest.raises(ConnectionBroken):  # broken now: refused before any call
        rig.cc.list_tags()
    assert auth_sb.state.request_count() == calls
