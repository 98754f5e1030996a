"""Connecting asks for campaign_data, and the token it gives reads campaign reports."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from bot.cc.campaigns import Campaigns
from bot.cc.client import CCApi
from bot.cc.oauth import DEFAULT_SCOPES, OAuthClient, pkce_pair
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from tests.support.campaigns import Tenant

REDIRECT = "http://127.0.0.1:9/cc/oauth/callback"


def test_the_connect_scopes_read_campaign_reports(sb: SandboxServer, tenant: Tenant) -> None:
    assert "campaign_data" in DEFAULT_SCOPES
    sb.state.register_client("connect-app", "connect-secret")
    oauth = OAuthClient(sb.auth_url, "connect-app", "connect-secret")
    verifier, challenge = pkce_pair()
    link = oauth.authorization_url(REDIRECT, "state-1", challenge)
    # The sandbox's authorize page approves for the account named, as a user would log in to it.
    location = httpx.get(f"{link}&account={tenant.account.account_id}").headers["location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = oauth.exchange_code(code, REDIRECT, verifier)
    assert tokens.scope is not None and "campaign_data" in tokens.scope.split()
    api = CCApi(sb.base_url, SpacingLimiter(rate_per_second=1000.0, clock=FakeClock()))
    campaigns = Campaigns(api.for_account(StaticTokens(tokens.access_token)))
    spring = campaigns.find_campaign("Spring Newsletter 2026")
    assert spring.primary_email_id is not None
    assert campaigns.report_contacts(spring.primary_email_id, "unique_opens").contact_ids
