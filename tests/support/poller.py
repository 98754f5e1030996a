"""A world for the poller: the sandbox on a FakeClock, the fake Slack, a store, accounts."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from bot.cc.client import AccountClient, CCApi
from bot.cc.models import ActivityKind
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.fakeslack.server import FakeSlack, FakeSlackServer, SlackMessage
from bot.devkit.sandbox.server import SandboxServer
from bot.poller import Poller
from bot.poller.thread import EVENT_TYPE
from bot.ports import SlackClients
from bot.store import NewActivity, Store, TrackedActivity
from tests.support.clocks import next_cycle

ACTIVITY_SECONDS = 20.0
CONTACTS = 30
REQUESTER = "U0REQUEST"
CHANNEL = "C0ACTIVITY"


def sandbox_account(base_url: str, token: str, account_key: str) -> AccountClient:
    """The real client on a sandbox account. Its own FakeClock keeps its backoff from moving the
    sandbox's time; no retries, so each outage answer reaches the poller as it is."""
    limiter = SpacingLimiter(rate_per_second=1000.0)
    api = CCApi(base_url, limiter, clock=FakeClock(), max_retries=0)
    return api.for_account(StaticTokens(token), account_key)


class Accounts:
    """Each workspace its own sandbox account (T1 → account-T1, ...)."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self._sandbox = sandbox
        self._clients: dict[str, AccountClient] = {}
        self.disconnected: set[str] = set()

    def client_for(self, workspace_id: str) -> AccountClient | None:
        if workspace_id in self.disconnected:
            return None
        if workspace_id not in self._clients:
            token = f"token-{workspace_id}"
            state = self._sandbox.state
            if f"account-{workspace_id}" not in state.accounts:
                state.add_account(f"account-{workspace_id}", contacts=CONTACTS)
                state.add_access_token(token, f"account-{workspace_id}", expires_in=None)
            self._clients[workspace_id] = sandbox_account(
                self._sandbox.base_url, token, workspace_id
            )
        return self._clients[workspace_id]

    def close(self) -> None:
        self._clients.clear()


class Crash(BaseException):
    """A kill -9 stand-in: nothing in the poller may catch it."""


class CrashingWebClient(WebClient):
    """A WebClient that dies at a chosen Slack call, before sending it or after its answer."""

    def __init__(self, plan: CrashPlan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._plan = plan

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        number = next(self._plan.calls)
        if number == self._plan.at and self._plan.when == "before":
            raise Crash(f"before call {number} ({api_method})")
        response = super().api_call(api_method, **kwargs)
        if number == self._plan.at and self._plan.when == "after":
            raise Crash(f"after call {number} ({api_method})")
        return response


@dataclass
class CrashPlan:
    at: int = -1
    when: str = "after"
    calls: Iterator[int] = field(default_factory=lambda: itertools.count(1))


class Slack:
    def __init__(self, api_url: str, plan: CrashPlan | None = None) -> None:
        self._client = (
            CrashingWebClient(plan, token="xoxb-test", base_url=api_url)
            if plan is not None
            else WebClient(token="xoxb-test", base_url=api_url)
        )

    def client_for(self, workspace_id: str) -> WebClient:
        return self._client


@dataclass
class World:
    clock: FakeClock
    sandbox: SandboxServer
    slack: FakeSlackServer
    store: Store
    accounts: Accounts
    owners: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    parent_at: dict[str, float] = field(default_factory=dict)

    @property
    def fake(self) -> FakeSlack:
        return self.slack.fake

    def poller(
        self, plan: CrashPlan | None = None, clients: SlackClients | None = None, **options: Any
    ) -> Poller:
        settings: dict[str, Any] = {
            "base_interval": 5.0,
            "max_interval": 60.0,
            "lease_seconds": 30.0,
            "max_age": timedelta(hours=24),
        } | options
        return Poller(
            self.store,
            self.accounts,
            clients or Slack(self.slack.api_url, plan),
            self.clock,
            owner=f"poller-{next(self.owners)}",
            **settings,
        )

    def start(
        self,
        workspace_id: str = "T1",
        outcome: str | None = None,
        errors: list[str] | None = None,
        *,
        channel: str = CHANNEL,
        summary: str | None = None,
    ) -> TrackedActivity:
        """Start a tagging activity in the workspace's account and track it, as the app does."""
        self.accounts.client_for(workspace_id)
        # Parents come at Slack's pace too: 1 a second in a channel.
        since = self.clock.monotonic() - self.parent_at.get(channel, -1.0)
        self.clock.advance(max(0.0, 1.0 - since))
        self.parent_at[channel] = self.clock.monotonic()
        state = self.sandbox.state
        if outcome:
            self.sandbox.faults.end_next_activity(outcome, errors)
        account = state.account(f"account-{workspace_id}")
        tag_id = next(iter(account.tags))
        contacts = list(account.contacts)[:10]
        activity = state.start_activity(
            account, ActivityKind.ADD_TAGS, contact_ids=contacts, tag_ids=[tag_id]
        )
        parent = WebClient(token="xoxb-test", base_url=self.slack.api_url).chat_postMessage(
            channel=channel, text=f"Adding a tag to {len(contacts)} contacts"
        )
        return self.store.track_activity(
            NewActivity(
                workspace_id=workspace_id,
                channel_id=channel,
                parent_ts=str(parent["ts"]),
                requester_id=REQUESTER,
                kind=ActivityKind.ADD_TAGS,
                summary=summary or f"Add a tag to {len(contacts)} contacts",
                activity_id=activity.activity_id,
            )
        )

    def run_until_done(self, poller: Poller, limit: int = 200) -> None:
        for _ in range(limit):
            wait = poller.run_once()
            if self.store.in_flight_count() == 0:
                return
            next_cycle(self.store, self.clock, wait)
        raise AssertionError("activities still in flight")

    def thread(self, tracked: TrackedActivity) -> list[SlackMessage]:
        return self.fake.thread(tracked.channel_id, tracked.parent_ts)

    def replies_by_state(self, tracked: TrackedActivity) -> Counter[str]:
        """How many replies of each state (and `progress`) the activity's thread holds."""
        counted: Counter[str] = Counter()
        for message in self.thread(tracked):
            meta = message.metadata or {}
            payload = meta.get("event_payload") or {}
            ours = payload.get("activity_id") == tracked.activity_id
            if meta.get("event_type") == EVENT_TYPE and ours:
                counted[str(payload["state"])] += 1
        return counted

    def cc_status_calls(self) -> int:
        return self.sandbox.state.request_count("/v3/activities", "GET")
