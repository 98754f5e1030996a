"""The real bolt app over HTTP: signed requests in, FakeSlack and the sandbox behind it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient

from bot.cc.client import AccountClient, CCApi
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.fakeslack.server import FakeSlack, FakeSlackServer, SlackMessage
from bot.ports import SingleAccount
from bot.sandbox.server import SandboxServer
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.local import (
    SlackSender,
    button_click,
    command_body,
    payload_body,
    view_submission,
)
from bot.store import AuditEntry, Store, TrackedActivity
from bot.testing_server import ThreadedServer
from bot.web import create_web_app

SECRET = "test-signing-secret"
TEAM, USER, CHANNEL = "T0001", "U0ASKER", "C0GENERAL"


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll a local server's effect until it shows (or fail after `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def picked(*names: str) -> dict[str, Any]:
    options = [{"text": {"type": "plain_text", "text": n}, "value": n} for n in names]
    return {"type": "multi_external_select", "selected_options": options}


def chosen(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value}}


def typed(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


@dataclass
class World:
    clock: FakeClock
    sandbox: SandboxServer
    slack: FakeSlackServer
    store: Store
    account: AccountClient
    sender: SlackSender
    web_url: str
    responses_seen: int = 0
    keys: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))

    @property
    def fake(self) -> FakeSlack:
        return self.slack.fake

    # ----------------------------------------------------------- requests
    def command(
        self,
        text: str,
        *,
        user: str = USER,
        trigger_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        body = command_body(
            text,
            team=TEAM,
            user=user,
            channel=CHANNEL,
            response_url=self.slack.response_url(f"cmd{next(self.keys)}"),
            trigger_id=trigger_id,
        )
        return self.sender.post(body, headers)

    def submit(self, view_id: str, values: dict[str, Any], **kw: Any) -> httpx.Response:
        view = self.fake.views[view_id]
        return self.sender.post(payload_body(view_submission(view, values, team=TEAM, user=USER)))

    def click(self, action_id: str, value: str) -> httpx.Response:
        url = self.slack.response_url(f"click{next(self.keys)}")
        payload = button_click(
            action_id, value, team=TEAM, user=USER, channel=CHANNEL, response_url=url
        )
        return self.sender.post(payload_body(payload))

    def options(self, action_id: str, typed_text: str) -> httpx.Response:
        payload = {
            "type": "block_suggestion",
            "team": {"id": TEAM},
            "user": {"id": USER, "team_id": TEAM},
            "action_id": action_id,
            "block_id": "targets",
            "value": typed_text,
            "api_app_id": "A0CCTAG",
        }
        return self.sender.post(payload_body(payload))

    # ----------------------------------------------------------- what Slack saw
    def responses(self) -> list[dict[str, Any]]:
        return [payload for _, payload in list(self.fake.responses)]

    def next_response(self) -> dict[str, Any]:
        wait_for(lambda: len(self.fake.responses) > self.responses_seen)
        self.responses_seen += 1
        return self.fake.responses[self.responses_seen - 1][1]

    def parents(self) -> list[SlackMessage]:
        return [m for m in self.fake.channel_messages(CHANNEL) if m.user is None]

    def opened_view(self) -> tuple[str, dict[str, Any]]:
        view_id = wait_for(lambda: next(iter(self.fake.views), None))
        return view_id, self.fake.views[view_id]

    def view_shown(self, view_id: str, condition: Callable[[dict[str, Any]], bool]) -> dict:
        return wait_for(
            lambda: self.fake.views[view_id] if condition(self.fake.views[view_id]) else None
        )

    def tracked(self) -> list[TrackedActivity]:
        return self.store.recent_activities(TEAM, limit=50)

    def audit(self) -> list[AuditEntry]:
        return self.store.audit_log(TEAM)

    def audited(self, predicate: Callable[[AuditEntry], bool]) -> AuditEntry:
        return wait_for(lambda: next((e for e in self.audit() if predicate(e)), None))

    def activities_started(self) -> int:
        return self.sandbox.state.request_count("/v3/activities", "POST")


def view_text(view: dict[str, Any]) -> str:
    parts = []
    for block in view.get("blocks", []):
        text = block.get("text") or {}
        parts.append(str(text.get("text", "")))
        for element in block.get("elements", []):
            parts.append(str(element.get("text", "")))
    return "\n".join(parts)


def build_world(database_url: str, sandbox: SandboxServer) -> Iterator[World]:
    clock = FakeClock()
    store = Store(database_url, clock)
    store.upgrade()
    api = CCApi(sandbox.base_url, TokenBucketLimiter(rate_per_second=1000.0), clock=FakeClock())
    account = api.for_account(StaticTokens(sandbox.access_token))
    slack = FakeSlackServer()
    with slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        settings = Settings(slack_signing_secret=SECRET, database_url=database_url)
        bolt = create_app(settings, store, SingleAccount(account), client, clock)
        with ThreadedServer(create_web_app(bolt, store)) as web:
            sender = SlackSender(web.url, SECRET)
            yield World(clock, sandbox, slack, store, account, sender, web.url)
            sender.close()
    api.close()
    store.close()


@pytest.fixture
def world(tmp_path: Any, sandbox: SandboxServer) -> Iterator[World]:
    """SQLite: the front end's own behaviour does not depend on the database engine."""
    yield from build_world(f"sqlite:///{tmp_path}/front.db", sandbox)


@pytest.fixture
def world_on(database_url: str, sandbox: SandboxServer) -> Iterator[World]:
    """On SQLite and PostgreSQL, where the database decides (idempotency)."""
    yield from build_world(database_url, sandbox)
