"""OAuth2: authorization code with PKCE, rotating refresh tokens, client checks, 1 req/s."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer

REDIRECT = "http://localhost:3000/cc/oauth/callback"
CLIENT = ("sandbox-client", "sandbox-secret")


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _authorize(sb: SandboxServer, verifier: str, **extra: str) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": "sandbox-client",
        "redirect_uri": REDIRECT,
        "scope": "contact_data offline_access",
        "state": "xyz",
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    return httpx.get(f"{sb.auth_url}/authorize", params=params)


def _code(sb: SandboxServer, verifier: str, **extra: str) -> str:
    response = _authorize(sb, verifier, **extra)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def _token(
    sb: SandboxServer, clock: FakeClock, form: dict[str, str], auth: Any = CLIENT
) -> httpx.Response:
    clock.advance(1.0)  # the token endpoint allows one request a second
    return httpx.post(f"{sb.auth_url}/token", data=form, auth=auth)


def _exchange(sb: SandboxServer, clock: FakeClock, code: str, verifier: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    return _token(sb, clock, form)


def test_code_flow_with_pkce_issues_tokens_the_api_accepts(
    sb: SandboxServer, clock: FakeClock
) -> None:
    verifier = secrets.token_urlsafe(48)
    response = _exchange(sb, clock, _code(sb, verifier), verifier)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86_400
    assert body["access_token"] and body["refresh_token"]
    api = httpx.get(
        f"{sb.base_url}/contact_tags", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert api.status_code == 200
    clock.advance(86_400)
    expired = httpx.get(
        f"{sb.base_url}/contact_tags", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert expired.status_code == 401


def test_a_code_is_single_use(sb: SandboxServer, clock: FakeClock) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _code(sb, verifier)
    assert _exchange(sb, clock, code, verifier).status_code == 200
    again = _exchange(sb, clock, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_verifier_or_redirect_is_invalid_grant(sb: SandboxServer, clock: FakeClock) -> None:
    verifier = secrets.token_urlsafe(48)
    wrong = _exchange(sb, clock, _code(sb, verifier), "another-verifier-" + "x" * 40)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    form = {
        "grant_type": "authorization_code",
        "code": _code(sb, verifier),
        "redirect_uri": "http://localhost:9999/elsewhere",
        "code_verifier": verifier,
    }
    assert _token(sb, clock, form).json()["error"] == "invalid_grant"


def test_client_authentication(sb: SandboxServer, clock: FakeClock) -> None:
    verifier = secrets.token_urlsafe(48)
    form = {
        "grant_type": "authorization_code",
        "code": _code(sb, verifier),
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    bad = _token(sb, clock, form, auth=("sandbox-client", "wrong"))
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    in_form = {
        **form,
        "code": _code(sb, verifier),
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
    }
    assert _token(sb, clock, in_form, auth=None).status_code == 200
    public = {**form, "code": _code(sb, verifier), "client_id": "sandbox-client"}
    assert _token(sb, clock, public, auth=None).status_code == 200  # PKCE, no secret
    unsupported = _token(sb, clock, {"grant_type": "password"})
    assert (
        unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_grant_type"
    )


def test_refresh_tokens_rotate(sb: SandboxServer, clock: FakeClock) -> None:
    verifier = secrets.token_urlsafe(48)
    first = _exchange(sb, clock, _code(sb, verifier), verifier).json()
    refreshed = _token(
        sb, clock, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    reused = _token(
        sb, clock, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    third = _token(
        sb, clock, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    )
    assert third.status_code == 200


def test_token_endpoint_allows_one_request_a_second(sb: SandboxServer, clock: FakeClock) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": "unknown"}
    assert _token(sb, clock, form).status_code == 400
    throttled = httpx.post(f"{sb.auth_url}/token", data=form, auth=CLIENT)
    assert throttled.status_code == 429
    clock.advance(1.0)
    assert httpx.post(f"{sb.auth_url}/token", data=form, auth=CLIENT).status_code == 400


def test_authorize_refuses_unknown_clients_and_foreign_redirects_with_a_page(
    sb: SandboxServer,
) -> None:
    for extra in ({"client_id": "stranger"}, {"redirect_uri": "https://evil.example.com/cb"}):
        response = _authorize(sb, "v" * 43, **extra)
        assert response.status_code == 400
        assert "location" not in response.headers
        assert response.headers["content-type"].startswith("text/html")


def test_authorize_errors_after_a_safe_redirect_go_back_to_the_app(sb: SandboxServer) -> None:
    response = _authorize(sb, "v" * 43, response_type="token")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["unsupported_response_type"] and query["state"] == ["xyz"]


def test_registered_clients_and_chosen_account(sb: SandboxServer, clock: FakeClock) -> None:
    sb.state.register_client("partner", "partner-secret", ["https://app.example.com/cb"])
    sb.state.add_account("acct-2", "Second", contacts=7)
    verifier = secrets.token_urlsafe(48)
    response = _authorize(
        sb,
        verifier,
        client_id="partner",
        redirect_uri="https://app.example.com/cb",
        account="acct-2",
    )
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "https://app.example.com/cb",
        "code_verifier": verifier,
    }
    token = _token(sb, clock, form, auth=("partner", "partner-secret")).json()["access_token"]
    contacts = httpx.get(
        f"{sb.base_url}/contacts",
        params={"include_count": "true"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert contacts["contacts_count"] == 7
    assert _authorize(sb, verifier, account="nobody").status_code == 400


def test_a_new_authorization_retires_the_old_refresh_tokens(
    sb: SandboxServer, clock: FakeClock
) -> None:
    """A second deployment connecting the same account with the same application disconnects
    the first: its refresh token is refused with invalid_grant."""
    first_verifier, second_verifier = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    first = _exchange(sb, clock, _code(sb, first_verifier), first_verifier).json()
    second = _exchange(sb, clock, _code(sb, second_verifier), second_verifier).json()
    old = _token(
        sb, clock, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"
    new = {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    assert _token(sb, clock, new).status_code == 200


def test_an_authorization_of_another_account_retires_nothing(
    sb: SandboxServer, clock: FakeClock
) -> None:
    sb.state.add_account("other")
    verifier, other_verifier = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    demo = _exchange(sb, clock, _code(sb, verifier), verifier).json()
    _exchange(sb, clock, _code(sb, other_verifier, account="other"), other_verifier)
    kept = {"grant_type": "refresh_token", "refresh_token": demo["refresh_token"]}
    assert _token(sb, clock, kept).status_code == 200
