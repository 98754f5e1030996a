"""Everything fits, and nothing pings.

500 tags of 255 characters, 50 lists of 255, 30 long activity errors and long recent summaries
stay within Slack's limits (the strict fake refuses anything past them), shortened with a count
of the rest, the ids and the warnings always shown; names that look like mrkdwn stay text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.clock import SYSTEM_CLOCK
from bot.devkit.local_slack import LocalSlack
from bot.devkit.sandbox.state import ListRecord, TagRecord
from bot.devkit.threaded_server import ThreadedServer
from bot.poller import Poller
from bot.ports import SingleAccount, SingleSlack
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.workspaces import HomeData
from bot.store import NewActivity
from bot.web import create_web_app
from tests.support.slack import SECRET, Bot, text_of, wait_for

LONG = 255


def long_name(prefix: str, index: int) -> str:
    head = f"{prefix} {index:03d} & co "
    return head + "x" * (LONG - len(head))


def give_tags(bot: Bot, count: int) -> list[str]:
    account = bot.sandbox.state.account()
    now = datetime.now(UTC)
    names = [long_name("Tag", i) for i in range(count)]
    with bot.sandbox.state.lock:
        for index, name in enumerate(names):
            tag_id = f"00000000-0000-4000-8000-{index:012d}"
            account.tags[tag_id] = TagRecord(tag_id, name, None, now, now)
            account.tag_members[tag_id] = set(list(account.contacts)[:3])
    return names


def give_lists(bot: Bot, count: int) -> list[str]:
    account = bot.sandbox.state.account()
    now = datetime.now(UTC)
    names = [long_name("List", i) for i in range(count)]
    with bot.sandbox.state.lock:
        for index, name in enumerate(names):
            list_id = f"10000000-0000-4000-8000-{index:012d}"
            account.lists[list_id] = ListRecord(list_id, name, "", False, now, now)
            account.list_members[list_id] = set(list(account.contacts)[:2])
    return names


def blocks_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = payload.get("blocks") or []
    return blocks


def test_500_long_tags_are_listed_within_a_message_with_a_count_of_the_rest(bot: Bot) -> None:
    give_tags(bot, 500)
    reply = bot.command("tags", "tags500")
    shown = text_of(reply)
    assert len(blocks_of(reply)) <= 50
    assert "tags*" in reply["blocks"][0]["text"]["text"]
    assert "more lines" in shown
    listed = text_of({"blocks": reply["blocks"]}).count("• *Tag ")
    assert 100 < listed < 500  # as many whole lines as fit, the rest counted


def test_a_confirmation_for_50_long_tags_keeps_its_counts_and_warning_and_starts_once(
    bot: Bot,
) -> None:
    names = give_tags(bot, 50)
    asked = bot.command("delete " + ", ".join(names), "del50")
    shown = text_of(asked)
    assert "removes it from every contact" in shown and "contacts in all" in shown
    in_blocks = text_of({"blocks": asked["blocks"]})
    assert in_blocks.count("• *Tag ") == 50  # every tag's count, none cut mid-way
    buttons = next(b for b in asked["blocks"] if b["type"] == "actions")["elements"]
    confirm = next(b for b in buttons if b["action_id"] == "confirm_command")
    assert bot.local.click(confirm, key="del50-yes").status_code == 200
    assert bot.local.click(confirm, key="del50-again").status_code == 200  # a double click
    started = wait_for(
        lambda: [r for r in bot.responses("del50-yes") if "Started" in text_of(r)], what="start"
    )
    [tracked] = bot.wait_tracked()
    assert tracked.activity_id in text_of(started[0])  # the id after a very long summary
    [parent] = bot.parents()
    wait_for(lambda: tracked.activity_id in parent.text, what="the parent names the activity")
    assert bot.activities() == 1


def test_50_long_lists_fit_the_parent_and_the_started_reply(bot: Bot) -> None:
    names = give_lists(bot, 50)
    reply = bot.command("add VIP --lists " + ", ".join(names), "lists50")
    [tracked] = bot.wait_tracked()
    assert tracked.activity_id in text_of(reply) and "more" not in tracked.activity_id
    [parent] = bot.parents()
    wait_for(lambda: tracked.activity_id in parent.text, what="the parent names the activity")
    assert all(len(b["text"]["text"]) <= 3000 for b in parent.blocks if "text" in b)


def test_status_with_30_long_errors_shows_the_id_and_whole_errors(bot: Bot) -> None:
    errors = [f"error {i:02d}: " + "contact rejected & skipped " * 70 for i in range(30)]
    bot.sandbox.state.plan_next_activity("failed", errors)
    bot.command("add VIP --lists Newsletter", "err-start")
    [tracked] = bot.wait_tracked()
    wait_for(
        lambda: bot.account.get_activity(tracked.activity_id).activity_errors, what="the errors"
    )
    reply = bot.command(f"status {tracked.activity_id}", "err-status")
    shown = text_of(reply)
    assert f"Activity `{tracked.activity_id}`" in shown
    assert all(error in shown for error in errors[:10])  # whole, not cut mid-way
    assert len(blocks_of(reply)) <= 50


@pytest.fixture
def home_bot(bot: Bot) -> Iterator[Bot]:
    """The same bot with its App Home filled from the store (as wiring does)."""
    home = HomeData(
        connection_info=lambda workspace: None,
        calls_today=lambda: 12,
        daily_quota=10_000,
        recent_activities=bot.store.recent_activities,
    )
    settings = Settings(slack_signing_secret=SECRET, database_url=bot.store.database_url)
    client = WebClient(token="xoxb-test", base_url=bot.slack.api_url)
    app = create_app(
        settings, bot.store, SingleAccount(bot.account), client, SYSTEM_CLOCK, home=home
    )
    with ThreadedServer(create_web_app(app, bot.store)) as web:
        local = LocalSlack(f"{web.url}/slack/events", SECRET, bot.slack.response_url)
        yield Bot(bot.sandbox, bot.slack, bot.store, bot.account, web, local)


def test_the_app_home_shows_with_long_recent_summaries(home_bot: Bot) -> None:
    bot = home_bot
    for index in range(12):
        bot.store.track_activity(
            NewActivity(
                workspace_id="T0001",
                channel_id="C0001",
                parent_ts=f"1.{index}",
                requester_id="U0001",
                kind="add_tags",
                summary="add tags " + ", ".join(long_name("“<!channel>", i) for i in range(50)),
                activity_id=f"20000000-0000-4000-8000-{index:012d}",
                state="processing",
                percent_done=40,
            )
        )
    assert bot.local.home_opened().status_code == 200
    view = wait_for(lambda: bot.fake.views.get("HOME-U0001"), what="the home published")
    assert view is not None
    assert "<!channel>" not in str(view["blocks"])
    shown = text_of(view)
    assert sum(f"20000000-0000-4000-8000-{i:012d}" in shown for i in range(12)) == 10


# ---------------------------------------------------------------- nothing pings or links

TRICKY = "<!channel> <@U123> & <https://x|y>"
TYPED = "&lt;!channel&gt; &lt;@U123&gt; &amp; &lt;https://x|y&gt;"  # as Slack sends it
LIVE = ("<!channel>", "<@U123>", "<https://x", "<!here>")


def raw(payload: dict[str, Any]) -> str:
    """What Slack would parse: the text and every block, unescaped by nobody."""
    return str(payload.get("text", "")) + str(payload.get("blocks", ""))


def inert(payload: dict[str, Any]) -> bool:
    return not any(live in raw(payload) for live in LIVE)


def give_tricky_names(bot: Bot) -> None:
    account = bot.sandbox.state.account()
    now = datetime.now(UTC)
    with bot.sandbox.state.lock:
        list_id = "30000000-0000-4000-8000-000000000001"
        account.lists[list_id] = ListRecord(list_id, f"List {TRICKY}", "", False, now, now)
        account.list_members[list_id] = set(list(account.contacts)[:2])
        tag_id = "30000000-0000-4000-8000-000000000002"
        account.tags[tag_id] = TagRecord(tag_id, f"Tag {TRICKY}", None, now, now)
        account.tag_members[tag_id] = set(list(account.contacts)[:2])


def test_tricky_names_are_text_in_every_reply_the_parent_and_the_thread(home_bot: Bot) -> None:
    bot = home_bot
    give_tricky_names(bot)
    created = bot.command("create R&amp;D @channel", "create")
    assert "R&amp;D" in raw(created) and inert(created)

    listed = bot.command("tags", "tags")
    assert "Tag &lt;!channel&gt; &lt;@U123&gt; &amp; &lt;https://x|y&gt;" in raw(listed)
    assert inert(listed)

    added = bot.command(f"add VIP --lists List {TYPED}", "add")
    assert "List <!channel> <@U123> & <https://x|y>" in text_of(added) and inert(added)
    [tracked] = bot.wait_tracked()
    [parent] = bot.parents()
    wait_for(lambda: tracked.activity_id in parent.text, what="the parent names the activity")
    shown = {"text": parent.text, "blocks": parent.blocks}
    assert parent.text.startswith("<@U0001> asked to") and inert(shown)

    client = WebClient(token="xoxb-test", base_url=bot.slack.api_url)
    poller = Poller(
        bot.store, SingleAccount(bot.account), SingleSlack(client), SYSTEM_CLOCK, owner="p"
    )
    wait_for(lambda: poller.run_once() is not None and bot.fake.thread("C0001", parent.ts))
    for reply in bot.fake.thread("C0001", parent.ts):
        assert inert({"text": reply.text, "blocks": reply.blocks})

    status = bot.command(f"status {tracked.activity_id}", "status")
    assert "List <!channel>" in text_of(status) and inert(status)

    assert bot.local.home_opened().status_code == 200
    home = wait_for(lambda: bot.fake.views.get("HOME-U0001"), what="the home")
    assert home is not None and "List &lt;!channel&gt;" in str(home["blocks"]) and inert(home)
