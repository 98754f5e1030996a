"""Undo's hard cases over signed HTTP: a partly failed job, an expired window, someone else's
change since, a contact deleted since, and an undo asked twice at once (one runs)."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import FakeClock
from bot.store.jobs import JobStore
from tests.support.slack import Bot, run_poller, text_of, wait_for
from tests.support.undo import (
    active_emails,
    click_undo_and_confirm,
    confirm_button,
    end_with_undo,
    ids_of,
    members,
    tag_directly,
    undo_button,
    untag_directly,
)

TAG = "Gala 2026"


def _add(bot: Bot, clock: FakeClock, emails: list[str], key: str = "add") -> str:
    """`add TAG --contacts ...` run to its end; answers the parent's ts."""
    bot.command(f"add {TAG} --contacts " + ", ".join(emails), key)
    wait_for(lambda: any("Started" in text_of(r) for r in bot.responses(key)), what="start")
    run_poller(bot, clock)
    return bot.parents()[-1].ts


def test_a_partly_failed_job_is_undone_only_where_it_changed_something(
    undo_bot: Bot, clock: FakeClock
) -> None:
    bot = undo_bot
    bot.command(f"create {TAG}", "c")
    emails = active_emails(bot, 600)
    bot.sandbox.state.plan_next_activity("failed", ["Constant Contact had a problem"])
    parent_ts = _add(bot, clock, emails)
    [job] = JobStore(bot.store).recent("T0001")
    failed, completed = job.parts
    assert (failed.state, completed.state) == ("failed", "completed")
    reached = set(completed.request["source"]["contact_ids"])
    assert members(bot, TAG) == reached and len(reached) == 100

    end, button = end_with_undo(bot, parent_ts)
    assert "failed" in end.text  # partly done: the end still offers Undo
    preview = click_undo_and_confirm(bot, button, "undo", clock)
    assert "remove the tag “Gala 2026” from *100 contacts*" in preview, preview
    assert "changed since" not in preview  # the failed part's contacts were never touched
    assert members(bot, TAG) == set()


def test_the_window_closes_after_the_undo_days(undo_bot: Bot, clock: FakeClock) -> None:
    bot = undo_bot
    bot.command(f"create {TAG}", "c")
    _add(bot, clock, active_emails(bot, 20))
    [tracked] = bot.store.recent_activities("T0001")
    clock.advance(timedelta(days=6).total_seconds())
    assert "Confirm to start" in text_of(bot.command(f"undo {tracked.activity_id}", "u6"))
    clock.advance(timedelta(days=2).total_seconds())
    refused = text_of(bot.command(f"undo {tracked.activity_id}", "u8"))
    assert "changes can be undone for 7 days (CCTAG_UNDO_DAYS)" in refused, refused
    assert members(bot, TAG) == ids_of(bot, active_emails(bot, 20))
    assert any(action == "undo" and "7 days" in outcome for action, outcome in bot.audit())


def test_contacts_changed_since_by_someone_else_are_named_and_left_alone(
    undo_bot: Bot, clock: FakeClock
) -> None:
    bot = undo_bot
    bot.command(f"create {TAG}", "c")
    emails = active_emails(bot, 300)
    carried = ids_of(bot, emails[:50])
    tag_directly(bot, TAG, carried)
    parent_ts = _add(bot, clock, emails)

    # Since: someone removed the tag from 5 it added and from 3 that carried it before, and
    # tagged 4 contacts the change never named.
    removed_new = ids_of(bot, emails[100:105])
    removed_old = ids_of(bot, emails[:3])
    outsiders = ids_of(bot, active_emails(bot, 4, skip=900))
    untag_directly(bot, TAG, removed_new | removed_old)
    tag_directly(bot, TAG, outsiders)
    clock.advance(120)

    _, button = end_with_undo(bot, parent_ts)
    preview = click_undo_and_confirm(bot, button, "undo", clock)
    assert "remove the tag “Gala 2026” from *245 contacts*" in preview, preview
    assert "*8 contacts* changed since by someone else, left as they are" in preview
    assert all(email in preview for email in emails[100:105] + emails[:3])
    assert members(bot, TAG) == (carried - removed_old) | outsiders


def test_a_contact_deleted_since_is_left_out_and_named(undo_bot: Bot, clock: FakeClock) -> None:
    bot = undo_bot
    bot.command(f"create {TAG}", "c")
    emails = active_emails(bot, 30)
    parent_ts = _add(bot, clock, emails)
    state = bot.sandbox.state
    [gone] = ids_of(bot, emails[7:8])
    with state.lock:
        contact = state.account().contacts[gone]
        contact.deleted_at = contact.updated_at = state.now()
    clock.advance(120)

    _, button = end_with_undo(bot, parent_ts)
    preview = click_undo_and_confirm(bot, button, "undo", clock)
    assert "remove the tag “Gala 2026” from *29 contacts*" in preview, preview
    assert f"*1 contact* deleted since, left out: {emails[7]}" in preview
    assert members(bot, TAG) == {gone}  # a deleted contact is never changed


def test_an_undo_asked_twice_at_once_runs_once(undo_bot: Bot, clock: FakeClock) -> None:
    bot = undo_bot
    bot.command(f"create {TAG}", "c")
    emails = active_emails(bot, 40)
    parent_ts = _add(bot, clock, emails)
    _, button = end_with_undo(bot, parent_ts)
    yeses = []
    for key in ("first", "second"):
        assert bot.local.click(button, key=key).status_code == 200
        yeses.append(confirm_button(bot.wait_response(key)))
    for key, yes in zip(("first", "second"), yeses, strict=True):
        assert bot.local.click(yes, key=f"{key}-yes").status_code == 200
    answers = [text_of(bot.wait_response(f"{key}-yes", count=2)) for key in ("first", "second")]
    assert sum("Started" in answer for answer in answers) == 1, answers
    assert sum("undone" in answer for answer in answers) == 1, answers
    run_poller(bot, clock)
    assert members(bot, TAG) == set()
    assert len(bot.store.recent_activities("T0001")) == 2  # the add and one undo
    ends = [m for m in bot.fake.thread("C0001", parent_ts) if undo_button(m) is not None]
    assert len(ends) == 2  # the change's end and the one undo's end, once each
