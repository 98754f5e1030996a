"""Done when: over signed HTTP against the sandbox, a tag added to 600 emails (100 of which
already carried it) and undone by its `Undo` button leaves the tag on exactly the contacts
that carried it before; an undo of that undo restores the change; a deleted tag of 40 members
undone with `/cctag undo <id>` exists again with exactly those 40."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.store.jobs import JobStore
from bot.store.records import RecordStore
from tests.support.slack import Bot, run_poller, text_of, wait_for
from tests.support.undo import (
    active_emails,
    click_undo_and_confirm,
    confirm_button,
    end_with_undo,
    ids_of,
    members,
    tag_directly,
)

TAG = "Spring fair"


def test_an_add_of_600_emails_undone_by_its_button_leaves_exactly_who_carried_it(
    undo_bot: Bot, clock: FakeClock
) -> None:
    bot = undo_bot
    assert "Created the tag" in text_of(bot.command(f"create {TAG}", "c"))
    emails = active_emails(bot, 600)
    carried = ids_of(bot, emails[:100]) | ids_of(bot, active_emails(bot, 30, skip=700))
    tag_directly(bot, TAG, carried)  # 100 of the 600, and 30 others

    bot.command(f"add {TAG} --contacts " + ", ".join(emails), "add")
    [started] = wait_for(
        lambda: [text_of(r) for r in bot.responses("add") if "Started job" in text_of(r)],
        what="job",
    )
    assert "so it can be undone: no API call" in started  # the index synced to find them
    run_poller(bot, clock)
    assert members(bot, TAG) == carried | ids_of(bot, emails)
    [parent] = bot.parents()
    [job] = JobStore(bot.store).recent("T0001")
    end, button = end_with_undo(bot, parent.ts)
    assert "completed" in end.text and button["value"] == job.id
    assert button["text"]["text"] == "Undo"

    preview = click_undo_and_confirm(bot, button, "undo", clock)
    assert "remove the tag “Spring fair” from *500 contacts*" in preview, preview
    assert "It runs as *1 activity*: 1 API call to start" in preview
    assert "changed since" not in preview
    assert members(bot, TAG) == carried
    assert bot.parents() == [parent], "the undo is told in the change's own thread"
    assert any(a == "undo" and o.startswith("started ") for a, o in bot.audit())

    # The undo's end carries its own Undo: undoing it restores the change.
    undo_end, again = end_with_undo(bot, parent.ts, nth=2)
    assert "completed" in undo_end.text
    preview = click_undo_and_confirm(bot, again, "redo", clock)
    assert "give the tag “Spring fair” back to *500 contacts*" in preview, preview
    assert members(bot, TAG) == carried | ids_of(bot, emails)
    again_twice = bot.local.click(button, key="undo-again")
    assert again_twice.status_code == 200
    assert "already undone" in text_of(bot.wait_response("undo-again"))


def test_a_deleted_tag_of_40_members_comes_back_with_undo_by_id(
    undo_bot: Bot, clock: FakeClock
) -> None:
    bot = undo_bot
    assert "Created the tag" in text_of(bot.command("create Donors --source Gala", "c"))
    forty = ids_of(bot, active_emails(bot, 40, skip=200))
    tag_directly(bot, "Donors", forty)
    asked = bot.command("delete Donors", "del")
    assert "Recording who carries what" in text_of(asked)
    assert bot.local.click(confirm_button(asked), key="del-yes").status_code == 200
    wait_for(lambda: any("Started" in text_of(r) for r in bot.responses("del-yes")), what="start")
    run_poller(bot, clock)
    assert bot.sandbox.state.account().tag_by_name("Donors") is None
    [tracked] = bot.store.recent_activities("T0001")

    asked = bot.command(f"undo {tracked.activity_id}", "undo")
    preview = text_of(asked)
    assert "creates the tag “Donors” (source “Gala”) again" in preview, preview
    assert "Segments or automations that named the deleted tag's id do not follow" in preview
    assert "give the tag “Donors” back to *40 contacts*" in preview
    assert bot.local.click(confirm_button(asked), key="undo-yes").status_code == 200
    wait_for(lambda: any("Started" in text_of(r) for r in bot.responses("undo-yes")))
    run_poller(bot, clock)
    tag = bot.sandbox.state.account().tag_by_name("Donors")
    assert tag is not None and tag.tag_source == "Gala" and tag.tag_id != tracked.activity_id
    assert members(bot, "Donors") == forty

    # Undoing the undo deletes the tag it made again.
    [parent] = bot.parents()
    _, button = end_with_undo(bot, parent.ts, nth=2)
    preview = click_undo_and_confirm(bot, button, "redo", clock)
    assert "deletes the tag “Donors” again" in preview, preview
    assert bot.sandbox.state.account().tag_by_name("Donors") is None
    record = RecordStore(bot.store).of_activity("T0001", tracked.activity_id)
    assert record is not None and record.undo_job_id is not None
