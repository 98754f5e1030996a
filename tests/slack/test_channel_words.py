"""The right words when Slack refuses the request's message, and "started" when it started."""

from __future__ import annotations

import pytest

from tests.support.slack import Bot, text_of

LINE = "add VIP --lists Newsletter"


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("not_in_channel", "/invite @cctag"),
        ("is_archived", "archived"),
        ("channel_not_found", "cannot see this channel"),
    ],
)
def test_a_channel_that_refuses_the_parent_is_named_in_words(
    bot: Bot, fault: str, words: str
) -> None:
    bot.fake.fault_channel("C0001", fault)
    reply = text_of(bot.command(LINE, f"refused-{fault}"))
    assert words in reply and "Nothing was started" in reply and fault not in reply
    assert bot.activities() == 0


def test_slack_slowing_us_down_is_said_so(bot: Bot) -> None:
    bot.fake.rate_limit("chat.postMessage", channel="C0001", retry_after=30)
    reply = text_of(bot.command(LINE, "slow"))
    assert "slow down" in reply and "Nothing was started" in reply
    assert bot.activities() == 0


def test_a_started_activity_is_reported_started_when_its_parent_cannot_be_updated(
    bot: Bot,
) -> None:
    bot.fake.fail("chat.update", "msg_too_long", times=5)
    reply = text_of(bot.command(LINE, "update-fails"))
    [tracked] = bot.wait_tracked()
    assert "Started" in reply and tracked.activity_id in reply
    assert "nothing was started" not in reply.lower()
