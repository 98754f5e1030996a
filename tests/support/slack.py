"""The real bolt app over HTTP: signed requests in, FakeSlack and the sandbox behind it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk import WebClient

from bot.cc.budget import fair_limiter
from bot.cc.client import AccountClient, CCApi
from bot.cc.tokens import StaticTokens
from bot.clock import SYSTEM_CLOCK, Clock, FakeClock
from bot.devkit.fakeslack.server import FakeSlack, FakeSlackServer, SlackMessage
from bot.devkit.local_slack import LocalSlack
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.threaded_server import ThreadedServer
from bot.permissions import Permissions
from bot.poller import Poller
from bot.ports import SingleAccount, SingleSlack
from bot.settings import Settings
from bot.slack.app import HomeData, create_app
from bot.store import Store, TrackedActivity
from bot.web import create_web_app
from tests.support.clocks import next_cycle

SECRET = "test-signing-secret"
T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """Poll a real local server's effect until it shows, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


@dataclass
class Bot:
    sandbox: SandboxServer
    slack: FakeSlackServer
    store: Store
    account: AccountClient
    web: ThreadedServer
    local: LocalSlack

    @property
    def fake(self) -> FakeSlack:
        return self.slack.fake

    def responses(self, key: str) -> list[dict[str, Any]]:
        return [payload for k, payload in self.fake.responses if k == key]

    def wait_response(self, key: str, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        found = wait_for(
            lambda: len(self.responses(key)) >= count, timeout, f"{count} responses to {key}"
        )
        assert found
        return self.responses(key)[count - 1]

    def command(self, text: str, key: str, **kwargs: Any) -> dict[str, Any]:
        answer = self.local.command(text, key=key, **kwargs)
        assert answer.status_code == 200, answer.text
        return self.wait_response(key)

    def parents(self, channel: str = "C0001") -> list[SlackMessage]:
        return self.fake.channel_messages(channel)

    def view(self, view_id: str) -> dict[str, Any]:
        return self.fake.views[view_id]

    def wait_tracked(self, count: int = 1) -> list[TrackedActivity]:
        wait_for(
            lambda: len(self.store.recent_activities("T0001")) >= count, what="tracked activity"
        )
        return self.store.recent_activities("T0001")

    def activities(self) -> int:
        return len(self.account.list_activities(limit=50))

    def audit(self) -> list[tuple[str, str]]:
        return [(e.action, e.outcome) for e in self.store.audit_log("T0001", limit=200)]


def text_of(payload: dict[str, Any]) -> str:
    """Everything a person reads in a message or view: text and every block's text, with
    mrkdwn's escapes shown as Slack shows them (`&lt;` reads `<`)."""
    parts = [str(payload.get("text") or "")]
    for block in payload.get("blocks", []):
        parts.append(_block_text(block))
    shown = "\n".join(parts)
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _block_text(block: dict[str, Any]) -> str:
    found: list[str] = []
    if isinstance(block.get("text"), dict):
        found.append(block["text"].get("text", ""))
    for element in block.get("elements", []) or []:
        if isinstance(element, dict) and isinstance(element.get("text"), (str, dict)):
            text = element["text"]
            found.append(text if isinstance(text, str) else text.get("text", ""))
    if isinstance(block.get("label"), dict):
        found.append(block["label"].get("text", ""))
    return " ".join(found)


@contextmanager
def bot_over(
    sandbox: SandboxServer,
    store: Store,
    rate_per_second: float,
    home: HomeData | None = None,
    permissions: Callable[[WebClient], Permissions] | None = None,
    slack_clock: Clock | None = None,
) -> Iterator[Bot]:
    """The real bolt app behind the real web app on a local port, over `sandbox` and `store`,
    with a strict fake Slack; requests are signed as Slack signs them. `home` fills the App
    Home (None: the help text); `permissions` makes the app's Permits from its Slack client
    (none: everything is allowed); `slack_clock` runs the fake Slack's rate limits on the
    test's clock (with a poller on that clock; default the wall's)."""
    fake = FakeSlack(clock=slack_clock) if slack_clock is not None else None
    with FakeSlackServer(fake) as slack:
        api = CCApi(sandbox.base_url, fair_limiter(rate_per_second, headroom=0.05), max_retries=1)
        account = api.for_account(StaticTokens(sandbox.access_token))
        settings = Settings(slack_signing_secret=SECRET, database_url=store.database_url)
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        permits = permissions(client) if permissions is not None else None
        app = create_app(
            settings,
            store,
            SingleAccount(account),
            client,
            SYSTEM_CLOCK,
            home=home,
            permissions=permits,
        )
        with ThreadedServer(create_web_app(app, store, signing_secret=SECRET)) as web:
            local = LocalSlack(f"{web.url}/slack/events", SECRET, slack.response_url)
            yield Bot(sandbox, slack, store, account, web, local)
        api.close()


def big_bot_on(database_url: str, clock: FakeClock, contacts: int) -> Iterator[Bot]:
    """A bot on either database over a sandbox of `contacts` demo contacts whose activities
    run on `clock` (20 s each), unthrottled: for jobs of several activities."""
    with SandboxServer(
        activity_seconds=20.0, rate_per_second=1000.0, contacts=contacts, clock=clock
    ) as sandbox:
        store = Store(database_url)
        store.upgrade()
        with bot_over(sandbox, store, rate_per_second=1000.0) as served:
            yield served
        store.close()


def run_poller(bot: Bot, clock: FakeClock) -> None:
    """A poller's cycles on `clock` until nothing is in flight."""
    slack = SingleSlack(WebClient(token="xoxb-test", base_url=bot.slack.api_url))
    poller = Poller(bot.store, SingleAccount(bot.account), slack, clock, owner="poller-test")
    for _ in range(200):
        wait = poller.run_once()
        if bot.store.in_flight_count() == 0:
            return
        next_cycle(bot.store, clock, wait)
    raise AssertionError("still in flight")
