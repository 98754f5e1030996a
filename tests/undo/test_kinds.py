"""Every kind of change is undone exactly: a tag removed is given back only to who carried it;
contacts put on a list are taken off only if they were not on it; a tag added to a list's
members (a source not named contact by contact) is taken off only who did not carry it."""

from __future__ import annotations

from bot.clock import FakeClock
from tests.support.slack import Bot, run_poller, text_of, wait_for
from tests.support.undo import (
    active_emails,
    click_undo_and_confirm,
    end_with_undo,
    ids_of,
    members,
    tag_directly,
)


def _run(bot: Bot, clock: FakeClock, line: str, key: str) -> str:
    bot.command(line, key)
    wait_for(lambda: any("Started" in text_of(r) for r in bot.responses(key)), what=line)
    run_poller(bot, clock)
    return bot.parents()[-1].ts


def _list_members(bot: Bot, name: str) -> set[str]:
    account = bot.sandbox.state.account()
    [list_id] = [i for i, item in account.lists.items() if item.name == name]
    return set(account.list_members.get(list_id, set()))


def test_a_tag_removed_comes_back_only_to_who_carried_it(undo_bot: Bot, clock: FakeClock) -> None:
    bot = undo_bot
    bot.command("create Alumni", "c")
    emails = active_emails(bot, 40)
    carried = ids_of(bot, emails[:15])
    tag_directly(bot, "Alumni", carried)
    parent = _run(bot, clock, "remove Alumni --contacts " + ", ".join(emails), "rm")
    assert members(bot, "Alumni") == set()
    _, button = end_with_undo(bot, parent)
    preview = click_undo_and_confirm(bot, button, "undo", clock)
    assert "give the tag “Alumni” back to *15 contacts*" in preview, preview
    assert members(bot, "Alumni") == carried


def test_contacts_put_on_a_list_are_taken_off_only_if_they_were_not_on_it(
    undo_bot: Bot, clock: FakeClock
) -> None:
    bot = undo_bot
    before = _list_members(bot, "Donors")
    emails = active_emails(bot, 60)
    added = ids_of(bot, emails) - before
    assert added and ids_of(bot, emails) & before, "some were on the list already"
    parent = _run(bot, clock, "lists Donors --contacts " + ", ".join(emails), "ls")
    assert _list_members(bot, "Donors") == before | added
    _, button = end_with_undo(bot, parent)
    preview = click_undo_and_confirm(bot, button, "undo", clock)
    assert f"remove *{len(added)} contacts* from the list “Donors”" in preview, preview
    assert _list_members(bot, "Donors") == before


def test_a_tag_added_to_a_lists_members_is_taken_off_only_who_lacked_it(
    undo_bot: Bot, clock: FakeClock
) -> None:
    bot = undo_bot
    bot.command("create Alumni", "c")
    donors = _list_members(bot, "Donors")
    carried = set(sorted(donors)[:10]) | ids_of(bot, active_emails(bot, 5, skip=1000))
    tag_directly(bot, "Alumni", carried)
    parent = _run(bot, clock, "add Alumni --lists Donors", "al")
    assert members(bot, "Alumni") > carried  # the change tagged the list's members
    _, button = end_with_undo(bot, parent)
    click_undo_and_confirm(bot, button, "undo", clock)
    assert members(bot, "Alumni") == carried
