"""The message shortcut “Tag the emails in this message”, over signed HTTP: the add-tags form
opens at once on the shortcut's trigger, prefilled with the message's emails, and posts in the
message's channel."""

from __future__ import annotations

from typing import Any

from bot.slack.listeners.shortcuts import CALLBACK_ID
from tests.slack.conftest import Bot, text_of, wait_for

CHANNEL = "C0777"


def _shortcut(bot: Bot, text: str, **message: Any) -> dict[str, Any]:
    before = len(bot.fake.views)
    answer = bot.local.message_action(CALLBACK_ID, {"text": text, **message}, channel=CHANNEL)
    assert answer.status_code == 200 and answer.text == ""
    wait_for(lambda: len(bot.fake.views) > before, what="a modal")
    return list(bot.fake.views.values())[-1]


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def _active(bot: Bot, count: int) -> list[str]:
    contacts = bot.sandbox.state.account().contacts.values()
    ordered = sorted(contacts, key=lambda c: int(c.email[7:-12]))
    return [c.email for c in ordered if c.is_active][:count]


def test_the_shortcut_opens_the_add_form_with_the_messages_emails_and_tags_them(
    bot: Bot,
) -> None:
    assert "Created the tag" in text_of(bot.command("create Met at the fair", "create"))
    tag = bot.account.find_tag_by_name("Met at the fair")
    assert tag is not None
    first, second, third = _active(bot, 3)
    text = (
        f"Met <mailto:{first}|{first}> and {second.upper()} at the fair;\n"
        f"also <mailto:{third}|{third}>, and again {first}. Thanks <@U0002|bob>!"
    )
    view = _shortcut(bot, text)
    [opened] = bot.fake.calls_to("views.open")
    assert opened.args["trigger_id"]  # the shortcut's own trigger, used once within 3 s
    assert view["callback_id"] == "tagging_form" and view["title"]["text"] == "Add tags"
    contacts = _block(view, "source_contacts")["element"]["initial_value"]
    assert contacts == f"{first}, {second}, {third}"
    assert _block(view, "source_kind")["element"]["initial_option"]["value"] == "contacts"
    assert f'"channel":"{CHANNEL}"' in view["private_metadata"]

    body = bot.local.submit(view, {"targets": [(tag.tag_id, tag.name)]}).json()
    assert body["response_action"] == "update"
    wait_for(lambda: "Started" in text_of(bot.view(view["id"])), what="started")
    [tracked] = bot.wait_tracked()
    [parent] = bot.parents(CHANNEL)
    assert tracked.parent_ts == parent.ts and tracked.kind == "contacts_taggings_add"

    def tagged() -> set[str]:
        bot.sandbox.state.advance()
        account = bot.sandbox.state.account()
        return {c.email for c in account.contacts.values() if tag.tag_id in c.tags}

    wait_for(tagged, what="the activity's effect")
    assert tagged() == {first, second, third}
    assert ("add", "form opened") in bot.audit()


def test_a_message_without_emails_opens_a_modal_that_says_so(bot: Bot) -> None:
    view = _shortcut(bot, "Lunch at noon? <https://example.com|menu> <@U0002|bob> a@b")
    shown = text_of(view)
    assert "I found no email address in this message" in shown
    assert "Nothing was changed" in shown and view["callback_id"] != "tagging_form"
    assert bot.activities() == 0


def test_a_message_with_more_emails_than_a_form_holds_says_to_use_a_file(bot: Bot) -> None:
    emails = " ".join(f"person{n}@example.com" for n in range(200))
    shown = text_of(_shortcut(bot, emails))
    assert "This message holds 200 emails" in shown and "CSV file" in shown


def test_the_emails_of_an_attachment_count_too(bot: Bot) -> None:
    view = _shortcut(bot, "", attachments=[{"text": "from ann@example.com", "fallback": ""}])
    assert _block(view, "source_contacts")["element"]["initial_value"] == "ann@example.com"
