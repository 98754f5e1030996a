"""The 3-second rules: a long look-up says at once that work started and about how long it
takes, before the preview comes."""

from __future__ import annotations

from typing import Any

from tests.support.slack import Bot, text_of, wait_for


def _open(bot: Bot, text: str) -> dict[str, Any]:
    answer = bot.local.command(text, key=f"open-{text}")
    assert answer.status_code == 200 and answer.text == ""
    return wait_for(lambda: list(bot.fake.views.values()), what="a modal")[-1]


def test_hundreds_of_emails_on_a_cold_index_are_announced_before_the_preview(bot: Bot) -> None:
    emails = [f"contact{n}@example.com" for n in range(1, 121)]
    bot.local.command("add VIP --contacts " + ", ".join(emails), key="cold")
    wait_for(lambda: len(bot.responses("cold")) >= 2, what="the word, then the answer")
    first, answer = (text_of(r) for r in bot.responses("cold")[:2])
    assert "Looking up 120 emails" in first and "API calls" in first and "second" in first
    assert "contacts* found" in answer or "Started" in answer


def test_a_few_emails_are_answered_without_a_word_first(bot: Bot) -> None:
    bot.command("add VIP --contacts contact1@example.com, contact2@example.com", "few")
    assert "Looking up" not in text_of(bot.responses("few")[0])


def test_a_long_look_up_from_a_form_keeps_the_modal_working_then_answers(bot: Bot) -> None:
    view = _open(bot, "add")
    tag = bot.account.find_tag_by_name("VIP")
    assert tag is not None
    emails = "\n".join(f"contact{n}@example.com" for n in range(1, 61))
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
