"""Making a rule needs the permission its line needs (acting on all active contacts is for the
admins), and each run is checked again as a request of its creator."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.clock import FakeClock
from bot.permissions import Permissions, Policy
from bot.ports import SingleAccount, SingleSlack
from bot.slack.conversation import ChannelPosts
from bot.store.connections import ConnectionRepository
from bot.store.rules import RuleStore
from bot.usecases import Catalog, Operations
from bot.usecases.commands import REGISTRY
from bot.usecases.inputs import Actor
from bot.usecases.ports import Message, Pending
from bot.usecases.requests import Pipeline, Request
from bot.usecases.rules.runner import RuleRunner
from tests.support.slack import Bot

LINE = "every day at 00:00 add VIP --all-active"
DAY = 24 * 3600


def guarded_pipeline(bot: Bot, clock: FakeClock) -> Pipeline:
    client = WebClient(token="xoxb-test", base_url=bot.slack.api_url)
    repo = ConnectionRepository(bot.store.engine, clock)
    permits = Permissions(repo, SingleSlack(client), Policy(), bot.store, clock)
    operations = Operations(bot.store, Catalog(clock=clock), clock=clock)
    return Pipeline(operations, SingleAccount(bot.account), REGISTRY, permits=permits)


class Said:
    """A front end that keeps what it is told (making a rule posts nothing)."""

    def __init__(self) -> None:
        self.said: list[Message] = []
        self.refused: str | None = None

    def say(self, message: Message) -> None:
        self.said.append(message)

    def refuse(self, reason: str) -> None:
        self.refused = reason

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        raise AssertionError("making a rule asks no confirmation")

    def open_form(self, command: str) -> None:
        raise AssertionError("no form")

    def post_parent(self, channel: str, message: Message) -> str:
        raise AssertionError("making a rule posts nothing")

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        raise AssertionError("making a rule posts nothing")


def ask(pipeline: Pipeline, user: str, text: str) -> Said:
    talk = Said()
    pipeline.handle(Request(Actor("T0001", user), text, "C0001"), talk)
    return talk


def test_a_restricted_line_is_for_those_who_may_run_it(rules_bot: Bot, clock: FakeClock) -> None:
    bot = rules_bot
    bot.fake.add_user("UADMIN", is_admin=True)
    bot.fake.add_user("UPLAIN")
    pipeline = guarded_pipeline(bot, clock)

    refused = ask(pipeline, "UPLAIN", LINE)
    assert refused.refused == "Only workspace admins and owners may act on all active contacts."
    assert RuleStore(bot.store).of_workspace("T0001") == []

    made = ask(pipeline, "UADMIN", LINE)
    assert made.refused is None and "Rule `1`* made" in made.said[-1].text
    assert bot.activities() == 0

    bot.fake.users["UADMIN"]["is_admin"] = False  # no longer an admin when it runs
    clock.advance(DAY)
    client = WebClient(token="xoxb-test", base_url=bot.slack.api_url)
    RuleRunner(pipeline, lambda _: ChannelPosts(client), clock, owner="w1").run_due()
    [word] = [m.text for m in bot.parents() if m.text.startswith(":warning: Rule `1`")]
    assert "did not run: Only workspace admins and owners may act on all active contacts" in word
    assert bot.activities() == 0
