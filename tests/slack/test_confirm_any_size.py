"""A confirmation of any size: its form is kept server-side, only a short key rides in the
modal's private_metadata (3,000 characters at most), and a yes starts it once."""

from __future__ import annotations

import json
from typing import Any

from tests.slack.test_fits import give_tags
from tests.support.slack import Bot, text_of, wait_for


def _open(bot: Bot, text: str) -> dict[str, Any]:
    answer = bot.local.command(text, key=f"open-{text}")
    assert answer.status_code == 200 and answer.text == ""
    return wait_for(lambda: list(bot.fake.views.values()), what="a modal")[-1]


def _settled(bot: Bot, view_id: str, word: str) -> dict[str, Any]:
    wait_for(lambda: word in text_of(bot.view(view_id)), what=f"view {word}")
    return bot.view(view_id)


def test_a_delete_of_50_long_named_tags_from_the_form_confirms_and_starts_once(bot: Bot) -> None:
    names = give_tags(bot, 50)
    picked = [(tag.tag_id, tag.name) for tag in bot.account.list_tags() if tag.name in names]
    assert len(picked) == 50
    view = _open(bot, "delete")
    bot.local.submit(view, {"targets": picked})
    confirm = _settled(bot, view["id"], "until you confirm")
    assert len(confirm["private_metadata"]) < 100 and names[0] not in confirm["private_metadata"]
    shown = text_of(confirm)
    assert "removes it from every contact" in shown and shown.count("• *Tag ") == 50

    bot.local.submit(confirm)
    bot.local.submit(confirm)  # a double click on Confirm
    _settled(bot, view["id"], "Started")
    [tracked] = bot.wait_tracked()
    assert tracked.kind == "contacts_tags_delete" and tracked.activity_id in text_of(
        bot.view(view["id"])
    )
    assert bot.activities() == 1


def test_a_confirmation_saved_by_someone_else_is_not_theirs_to_start(bot: Bot) -> None:
    view = _open(bot, "delete")
    tag = bot.account.find_tag_by_name("Board Member")
    assert tag is not None
    bot.local.submit(view, {"targets": [(tag.tag_id, tag.name)]})
    confirm = _settled(bot, view["id"], "until you confirm")
    assert set(json.loads(confirm["private_metadata"])) == {"saved"}
    answer = bot.local.submit(confirm, user="U0002")
    assert answer.status_code == 200 and "no longer known" in answer.text
    assert bot.activities() == 0
