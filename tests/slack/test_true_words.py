"""Words that tell the truth (issue 17, item 4): values that cannot be contacts are refused
before anything is posted, and an id the account does not hold is one of them."""

from __future__ import annotations

import uuid

from tests.support.slack import Bot, text_of


def test_an_unknown_contact_id_is_refused_before_any_post(bot: Bot) -> None:
    ghost = str(uuid.uuid4())
    reply = text_of(bot.command(f"add VIP --contacts {ghost}", "t1"))
    assert f"No contact in this account has the id {ghost}" in reply
    assert bot.parents() == [] and bot.activities() == 0
    known = next(iter(bot.sandbox.state.account().active))
    mixed = text_of(bot.command(f"add VIP --contacts {known}, {ghost}", "t2"))
    assert ghost in mixed and bot.parents() == [] and bot.activities() == 0
    excluded = text_of(bot.command(f"add VIP --all-active --exclude {ghost}", "t3"))
    assert f"has the id {ghost}" in excluded and bot.activities() == 0


def test_values_that_are_neither_emails_nor_ids_are_refused_before_any_post(bot: Bot) -> None:
    reply = text_of(bot.command("add VIP --contacts bob, 12345", "t4"))
    assert "“bob”, “12345”: neither an email nor a contact id" in reply
    assert bot.parents() == [] and bot.activities() == 0


def test_a_known_contact_id_is_tagged_and_a_deleted_one_is_skipped_in_words(bot: Bot) -> None:
    account = bot.sandbox.state.account()
    known = next(iter(account.active))
    gone = next(c.contact_id for c in account.contacts.values() if c.deleted_at is not None)
    reply = text_of(bot.command(f"add VIP --contacts {known}, {gone}", "t5"))
    assert "Started:" in reply and bot.activities() == 1
    assert gone in reply and "deleted" in reply
    [activity] = account.activities.values()
    assert activity.contact_ids == frozenset({known})
