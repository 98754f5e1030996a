"""Done when: over signed HTTP with two connected workspaces on one API key at 4 requests a
second, while the first's 8,000-email request runs (its index sync, then its job's parts), the
second's `/cctag tags` and `/cctag create` are answered within 3 s each, `/cctag budget`
answers with its numbers, and no call is answered 429.

Each workspace is served by a web app of its own (two processes' worth: its own client, its
own limiter object and database connections), sharing the budget through the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

import httpx
import pytest
from slack_sdk import WebClient

from bot.cc.client import AccountClient, CCApi
from bot.cc.tokens import StaticTokens
from bot.clock import SYSTEM_CLOCK
from bot.devkit.fakeslack.server import FakeSlack, FakeSlackServer
from bot.devkit.local_slack import LocalSlack
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.threaded_server import ThreadedServer
from bot.settings import Settings
from bot.slack.app import create_app
from bot.store import Store
from bot.store.ratelimit import DatabaseRateLimiter
from bot.web import create_web_app
from tests.support.slack import SECRET, text_of, wait_for

BIG, SMALL = "T0001", "T0002"
CONTACTS = 8_600
EMAILS = 8_000
ANSWER_SECONDS = 3.0


class ByWorkspace:
    """bot.usecases.ports.Accounts: each workspace's own Constant Contact account."""

    def __init__(self, clients: dict[str, AccountClient]) -> None:
        self._clients = clients

    def client_for(self, workspace_id: str) -> AccountClient | None:
        return self._clients.get(workspace_id)


@dataclass
class Key:
    """Both web apps' traffic to Constant Contact, with every call answered 429 noted."""

    http_429: list[str] = field(default_factory=list)

    def hook(self, response: httpx.Response) -> None:
        if response.status_code == 429:
            self.http_429.append(f"{response.request.method} {response.request.url.path}")


@dataclass
class Two:
    fake: FakeSlack
    big: LocalSlack
    small: LocalSlack
    key: Key
    sandbox: SandboxServer

    def answer(self, local: LocalSlack, text: str, key: str, timeout: float = 60.0) -> str:
        assert local.command(text, key=key).status_code == 200
        found = wait_for(lambda: self.said(key), timeout, f"answer to {key}")
        return text_of(found[0])

    def said(self, key: str) -> list[dict[str, object]]:
        return [payload for k, payload in self.fake.responses if k == key]


@pytest.fixture
def two(database_url: str) -> Iterator[Two]:
    key = Key()
    with ExitStack() as stack:
        sandbox = stack.enter_context(SandboxServer(rate_per_second=4.0, contacts=10))
        sandbox.state.add_account("acct-big", "Big", contacts=CONTACTS, seed=3)
        sandbox.state.add_access_token("token-big", "acct-big", expires_in=None)
        sandbox.state.add_account("acct-small", "Small", contacts=300, seed=4)
        sandbox.state.add_access_token("token-small", "acct-small", expires_in=None)
        slack = stack.enter_context(FakeSlackServer())
        locals_: dict[str, LocalSlack] = {}
        for team, token in ((BIG, "token-big"), (SMALL, "token-small")):
            store = Store(database_url)  # a process's own connections
            store.upgrade()
            stack.callback(store.close)
            limiter = DatabaseRateLimiter(store, "the-key", rate_per_second=4.0)
            http = httpx.Client(timeout=10.0, event_hooks={"response": [key.hook]})
            api = CCApi(sandbox.base_url, limiter, http=http, max_retries=1)
            stack.callback(api.close)
            account = api.for_account(StaticTokens(token), account_key=team)
            settings = Settings(slack_signing_secret=SECRET, database_url=database_url)
            client = WebClient(token="xoxb-test", base_url=slack.api_url)
            app = create_app(settings, store, ByWorkspace({team: account}), client, SYSTEM_CLOCK)
            web = stack.enter_context(ThreadedServer(create_web_app(app, store)))
            locals_[team] = LocalSlack(
                f"{web.url}/slack/events", SECRET, slack.response_url, team=team
            )
        yield Two(slack.fake, locals_[BIG], locals_[SMALL], key, sandbox)


def timed(two: Two, text: str, key: str) -> tuple[float, str]:
    started = time.monotonic()
    said = two.answer(two.small, text, key, timeout=30.0)
    return time.monotonic() - started, said


def test_a_person_of_another_workspace_is_answered_within_3_s_while_a_big_request_runs(
    two: Two,
) -> None:
    emails = ", ".join(f"contact{n}@example.com" for n in range(1, EMAILS + 1))
    assert two.big.command(f"add VIP --contacts {emails}", key="big").status_code == 200
    wait_for(
        lambda: "Looking up" in text_of(two.said("big")[0]) if two.said("big") else False,
        30.0,
        "the big request's lookup under way",
    )

    answered = [timed(two, "tags", "tags-1"), timed(two, "create Fresh Leads", "create")]
    preview = wait_for(lambda: two.said("big")[1:], 120.0, "the big request's preview")[0]
    shown = text_of(preview)
    assert "It runs as a job of *" in shown
    assert "of today's API calls are left for this workspace" in shown
    blocks = preview["blocks"]
    assert isinstance(blocks, list)
    confirm = next(b for b in blocks[1]["elements"] if b["action_id"] == "confirm_command")
    clicked = threading.Thread(target=lambda: two.big.click(confirm, key="big-yes"))
    clicked.start()
    wait_for(lambda: two.fake.channel_messages("C0001"), 30.0, "the job's parent")
    answered.append(timed(two, "tags", "tags-2"))  # while the job's parts start
    clicked.join(60.0)
    wait_for(
        lambda: any("Started job" in text_of(said) for said in two.said("big-yes")),
        120.0,
        "the job started",
    )

    assert two.key.http_429 == []  # first: a 429's retry would also add a call below
    for seconds, said in answered:
        assert seconds <= ANSWER_SECONDS, (seconds, said)
    assert "Created the tag *Fresh Leads*" in answered[1][1]
    budget = two.answer(two.small, "budget", "budget")
    assert "This workspace: *3 calls* today (0 of them background work)" in budget
    assert "The API key, for every workspace:" in budget and "UTC*, in" in budget
    big_budget = two.answer(two.big, "budget", "big-budget")
    assert "of them background work" in big_budget and "*0 calls*" not in big_budget
    assert two.key.http_429 == []
