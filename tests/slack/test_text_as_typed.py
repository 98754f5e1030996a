"""Command text arrives as Slack sends it (escaped, links in Slack's forms); the bot reads what
the person typed."""

from __future__ import annotations

from tests.support.slack import Bot, text_of


def test_an_escaped_ampersand_is_the_ampersand_typed(bot: Bot) -> None:
    assert "Created the tag" in text_of(bot.command("create R&amp;D", "amp"))
    assert bot.account.find_tag_by_name("R&D") is not None
    assert bot.account.find_tag_by_name("R&amp;D") is None


def test_escaped_brackets_are_read_as_typed_and_refused_as_such(bot: Bot) -> None:
    assert "cannot contain < or >" in text_of(bot.command("create &lt;b&gt;", "lt"))


def test_a_channel_link_is_the_name_typed(bot: Bot) -> None:
    assert "Created the tag" in text_of(bot.command("create <#C123|launch>", "chan"))
    assert bot.account.find_tag_by_name("#launch") is not None


def test_a_name_that_would_ping_the_channel_is_shown_as_text(bot: Bot) -> None:
    payload = bot.command("add VIP --lists &lt;!here&gt; news", "ping")
    shown = str(payload["blocks"]) + payload["text"]
    assert "&lt;!here&gt; news" in shown and "<!here>" not in shown


def test_the_requesters_own_mention_still_mentions(bot: Bot) -> None:
    bot.command("add VIP --lists Newsletter", "mention")
    [parent] = bot.parents()
    assert parent.text.startswith("<@U0001> asked to")
