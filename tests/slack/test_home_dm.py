"""An activity started from the App Home lives in the requester's DM, by the `D…` id Slack
answers: the strict fake refuses chat.update on a user id, as Slack does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from bot.clock import SYSTEM_CLOCK, FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.poller import Poller
from bot.ports import SingleAccount, SingleSlack
from tests.support.slack import Bot, text_of, wait_for

USER = "U0001"
DM = "D0001"
ACTIVITY_SECONDS = 10.0


@pytest.fixture
def sandbox_clock() -> FakeClock:
    return FakeClock(start=datetime.now(UTC))


@pytest.fixture
def sandbox(sandbox_clock: FakeClock) -> Iterator[SandboxServer]:
    """Activities run on the test's clock, which stays still: the poller finds this one just
    started however slow the machine is (on the wall clock it could be well under way)."""
    with SandboxServer(
        activity_seconds=ACTIVITY_SECONDS, rate_per_second=50.0, clock=sandbox_clock
    ) as server:
        yield server


def test_an_activity_from_the_app_home_is_reported_in_the_dm_by_its_real_id(bot: Bot) -> None:
    assert bot.local.home_click("home_add", user=USER).status_code == 200
    form = wait_for(lambda: list(bot.fake.views.values()), what="the home's form")[-1]
    tag, listed = bot.account.find_tag_by_name("VIP"), bot.account.find_list_by_name("Newsletter")
    assert tag is not None and listed is not None
    values = {"targets": [(tag.tag_id, tag.name)], "source_lists": [(listed.list_id, listed.name)]}
    assert bot.local.submit(form, values, user=USER).status_code == 200

    [tracked] = bot.wait_tracked()
    wait_for(lambda: "Started" in text_of(bot.view(form["id"])), what="the started view")
    parent = bot.fake.message(DM, tracked.parent_ts)
    wait_for(lambda: tracked.activity_id in parent.text, what="the parent shows the activity")
    assert "Not started" not in parent.text and parent.edits == 1

    client = WebClient(token="xoxb-test", base_url=bot.slack.api_url)
    poller = Poller(
        bot.store, SingleAccount(bot.account), SingleSlack(client), SYSTEM_CLOCK, owner="p"
    )
    poller.run_once()
    # Its 0.3 s activity may have moved on by the first poll: the progress reply comes first.
    progress = bot.fake.thread(DM, tracked.parent_ts)[0]
    assert "items" in progress.text or "%" in progress.text
    followed = bot.store.get_tracked(tracked.workspace_id, tracked.activity_id)
    assert followed is not None and followed.requester_dm == DM and followed.slack_error is None
