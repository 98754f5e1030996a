"""The message shortcut “Tag the emails in this message”, over signed HTTP: the add-tags form
opens at once on the shortcut's trigger, prefilled with the message's emails (or, when they do
not fit its field, with them kept server-side and counted), and posts in the message's
channel."""

from __future__ import annotations

import json
from typing import Any

from bot.clock import FakeClock
from bot.slack.files import KEPT_UNKNOWN
from bot.slack.listeners.shortcuts import CALLBACK_ID
from tests.slack import test_files
from tests.support.slack import Bot, run_poller, text_of, wait_for

CHANNEL = "C0777"
# The CSV tests' sandbox of 1,500 contacts on either database, and its clock.


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


def _settled(bot: Bot, view_id: str, words: str) -> str:
    wait_for(lambda: words in text_of(bot.view(view_id)), what=words)
    return text_of(bot.view(view_id))


def _with_kept(view: dict[str, Any], key: str) -> dict[str, Any]:
    meta = {**json.loads(view["private_metadata"]), "kept": key}
    return {**view, "private_metadata": json.dumps(meta)}


def test_more_emails_than_the_field_holds_are_kept_and_counted(bot: Bot) -> None:
    emails = [f"person{n}@example.com" for n in range(200)]
    view = _shortcut(bot, " ".join(emails))
    assert "200 emails from the message are included (you may add more below)" in text_of(view)
    assert "initial_value" not in _block(view, "source_contacts")["element"]
    assert _block(view, "source_kind")["element"]["initial_option"]["value"] == "contacts"
    meta = json.loads(view["private_metadata"])
    assert meta["channel"] == CHANNEL and emails[0] not in view["private_metadata"]
    assert bot.store.saved_line("T0001", "U0001", meta["kept"]) == "\n".join(emails)
    assert bot.store.saved_line("T0001", "U0002", meta["kept"]) is None

    tag = ("3f0a5c34-0000-4000-8000-000000000000", "Any")
    other = bot.local.submit(view, {"targets": [tag], "source_kind": "lists"}).json()
    assert other["response_action"] == "errors"
    assert "keep “These contacts” picked" in other["errors"]["source_kind"]
    assert bot.activities() == 0


def test_a_forged_or_foreign_key_is_refused_in_words_and_nothing_starts(bot: Bot) -> None:
    assert "Created the tag" in text_of(bot.command("create Fair 2026", "create"))
    tag = bot.account.find_tag_by_name("Fair 2026")
    assert tag is not None
    emails = _active(bot, 3) + [f"person{n}@example.com" for n in range(200)]
    foreign = bot.store.save_line("T0001", "U0002", "\n".join(emails))
    confirmation = bot.store.save_line("T0001", "U0001", '{"saved":"not emails"}')
    for key in (foreign, confirmation, "00000000-0000-4000-8000-000000000000"):
        view = _shortcut(bot, " ".join(emails))
        forged = _with_kept(view, key)
        body = bot.local.submit(forged, {"targets": [(tag.tag_id, tag.name)]}).json()
        assert body["response_action"] == "update"
        refused = _settled(bot, view["id"], KEPT_UNKNOWN)
        assert "Nothing was changed" in refused
    assert bot.activities() == 0 and bot.parents(CHANNEL) == []


def test_the_emails_of_an_attachment_count_too(bot: Bot) -> None:
    view = _shortcut(bot, "", attachments=[{"text": "from ann@example.com", "fallback": ""}])
    assert _block(view, "source_contacts")["element"]["initial_value"] == "ann@example.com"


# ---------------------------------------------------------------- done when: many emails


def test_a_message_of_1200_emails_previews_then_runs_as_one_job(
    big_bot: Bot, clock: FakeClock
) -> None:
    bot = big_bot
    assert "Created the tag" in text_of(bot.command("create From the message", "create"))
    tag = bot.account.find_tag_by_name("From the message")
    assert tag is not None
    account = bot.sandbox.state.account()
    demo = sorted(account.contacts.values(), key=lambda c: int(c.email[7:-12]))
    skipped = [c.email for c in demo if not c.is_active][: test_files.SKIPPED]
    assert any(c.deleted_at for c in demo if c.email in skipped)  # deleted and unsubscribed
    found = [c.email for c in demo if c.is_active][: test_files.KNOWN - test_files.SKIPPED]
    unknown = [f"nobody{n}@example.org" for n in range(test_files.UNKNOWN)]
    emails = found + skipped + unknown
    subscribed = {account.by_email[e] for e in found}
    text = "Webinar attendees: " + ", ".join(emails) + f" and again <mailto:{found[0]}|{found[0]}>"
    assert len(emails) == 1200 and len(text) <= 40_000  # a message Slack keeps whole

    view = _shortcut(bot, text)
    assert len(bot.fake.calls_to("views.open")) == 1  # on the shortcut's trigger, within 3 s
    assert "1,200 emails from the message are included" in text_of(view)
    typed = {"source_contacts": f"{found[1].upper()}, {found[2]}"}  # already named: once each
    answer = bot.local.submit(view, {"targets": [(tag.tag_id, tag.name)], **typed}).json()
    assert answer["response_action"] == "update"
    preview = _settled(bot, view["id"], "until you confirm")
    assert f"*{len(subscribed)} contacts* found" in preview
    assert f"*{test_files.UNKNOWN} emails* not found" in preview
    assert f"*{test_files.SKIPPED} contacts* skipped" in preview
    confirm = bot.view(view["id"])
    saved = bot.store.saved_line("T0001", "U0001", json.loads(confirm["private_metadata"])["saved"])
    assert saved is not None and '"kept":' in saved  # the yes reads the kept emails again
    assert found[5] not in saved and found[5] not in confirm["private_metadata"]
    assert bot.activities() == 0 and bot.parents(CHANNEL) == []

    bot.local.submit(confirm)
    _settled(bot, view["id"], "Started")
    wait_for(lambda: bot.activities() == 3, what="three activities")
    run_poller(bot, clock)
    [parent] = bot.parents(CHANNEL)
    ends = [
        m
        for m in bot.fake.thread(CHANNEL, parent.ts)
        if (m.metadata or {}).get("event_payload", {}).get("state") == "job"
    ]
    assert len(ends) == 1 and "completed" in ends[0].text
    assert bot.sandbox.state.account().tag_members[tag.tag_id] == subscribed
