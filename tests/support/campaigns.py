"""Campaigns, reports and segments over real HTTP against the sandbox.

One sandbox per module (real clock, a generous rate so tests are never held back), and a fresh
account per test (`tenant`), seeded like the demo account with its own campaigns, reached with a
token that has every scope. `reader` is the production client for it, on FakeClocks: every
backoff sleep lands in `reader.clock.sleeps` and nothing sleeps for real.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from bot.cc.campaigns import SEGMENT_WAITS, Campaigns
from bot.cc.client import AccountClient, CCApi
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.sandbox.campaigns import CampaignBook, CampaignRecord
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import ALL_SCOPES, Account

RATE_PER_SECOND = 1000.0
UNLIMITED = 1_000_000.0


@dataclass
class Tenant:
    sb: SandboxServer
    account: Account
    token: str
    requests_before: Counter[str] = field(default_factory=Counter)

    @property
    def book(self) -> CampaignBook:
        assert self.account.campaigns is not None
        return self.account.campaigns

    def campaign(self, name: str, status: str = "Done") -> CampaignRecord:
        return next(
            c for c in self.book.campaigns.values() if c.name == name and c.current_status == status
        )

    def requests(self, path_contains: str) -> int:
        """Requests that reached the sandbox since this tenant was made (tests run one by one)."""
        now = self.sb.state.request_count(path_contains)
        before = sum(n for key, n in self.requests_before.items() if path_contains in key)
        return now - before


@dataclass
class Reader:
    tenant: Tenant
    client: AccountClient
    clock: FakeClock

    def campaigns(self, segment_waits: Sequence[float] = SEGMENT_WAITS) -> Campaigns:
        return Campaigns(self.client, clock=self.clock, segment_waits=segment_waits)


def new_tenant(sb: SandboxServer, contacts: int = 200, scope: str = ALL_SCOPES) -> Tenant:
    suffix = uuid.uuid4().hex[:10]
    account = sb.state.add_account(f"account-{suffix}", contacts=contacts)
    token = f"token-{suffix}"
    sb.state.add_access_token(token, account.account_id, expires_in=None, scope=scope)
    return Tenant(sb, account, token, Counter(sb.state.requests))


def client_for(tenant: Tenant, clock: FakeClock, timeout: float = 10.0) -> AccountClient:
    limiter = SpacingLimiter(rate_per_second=UNLIMITED, clock=FakeClock())
    http = httpx.Client(timeout=timeout)
    api = CCApi(tenant.sb.base_url, limiter, http=http, clock=clock)
    return api.for_account(StaticTokens(tenant.token))
