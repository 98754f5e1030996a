"""The 3-second rules: a long look-up says at once that work started and about how long it
takes, before the preview comes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.clock import FakeClock
from tests.support.slack import Bot, big_bot_on, text_of, wait_for

# 5,000 contacts: a cold index pages them in 10 calls, more than a person waits for unwarned.
CONTACTS = 5000


@pytest.fixture
def wide_bot(database_url: str, clock: FakeClock) -> Iterator[Bot]:
    yield from big_bot_on(database_url, clock, contacts=CONTACTS)


def late_emails(count: int) -> list[str]:
    """Emails past the index's first page: found only by paging or one look-up each."""
    return [f"contact{n}@example.com" for n in range(4001, 4001 + count)]


def _open(bot: Bot, text: str) -> dict[str, Any]:
    answer = bot.local.command(text, key=f"open-{text}")
    assert answer.status_code == 200 and answer.text == ""
    return wait_for(lambda: list(bot.fake.views.values()), what="a modal")[-1]


def test_hundreds_of_emails_on_a_cold_index_are_announced_at_their_real_cost(
    wide_bot: Bot,
) -> None:
    bot = wide_bot
    bot.local.command("add VIP --contacts " + ", ".join(late_emails(120)), key="cold")
    wait_for(lambda: len(bot.responses("cold")) >= 2, what="the word, then the answer")
    first, answer = (text_of(r) for r in bot.responses("cold")[:2])
    # 120 emails, but the index pages 500 contacts a call: 10 pages, not 120 look-ups.
    assert "Looking up 120 emails" in first and "at most 10 API calls" in first
    assert "about 3 seconds" in first
    assert "contacts* found" in answer or "Started" in answer
    paged = bot.sandbox.state.request_count("/v3/contacts", "GET")
    assert paged == 1 + 10  # the account's size, then the pages announced


def test_a_cold_look_up_of_1400_emails_on_a_small_account_is_not_announced_as_1400_calls(
    bot: Bot,
) -> None:
    emails = [f"contact{n}@example.com" for n in range(1, 1401)]
    bot.local.command("add VIP --contacts " + ", ".join(emails), key="small")
    answer = text_of(bot.wait_response("small"))
    assert "Looking up" not in answer and "1400 API calls" not in answer
    assert bot.sandbox.state.request_count("/v3/contacts", "GET") <= 2


def test_a_few_emails_are_answered_without_a_word_first(bot: Bot) -> None:
    bot.command("add VIP --contacts contact1@example.com, contact2@example.com", "few")
    assert "Looking up" not in text_of(bot.responses("few")[0])


def test_a_long_look_up_from_a_form_keeps_the_modal_working_then_answers(wide_bot: Bot) -> None:
    bot = wide_bot
    view = _open(bot, "add")
    tag = bot.account.find_tag_by_name("VIP")
    assert tag is not None
    emails = "\n".join(late_emails(60))
    values = {"targets": [(tag.tag_id, tag.name)], "source_kind": "contacts"}
    values["source_contacts"] = emails
    assert bot.local.submit(view, values).status_code == 200
    updates = wait_for(
        lambda: [c.args for c in bot.fake.calls_to("views.update") if "Started" in str(c.args)],
        what="the started view",
    )
    assert updates
    working = [c.args for c in bot.fake.calls_to("views.update") if "Looking up" in str(c.args)]
    assert working and "Started" not in str(working[0]["view"])
