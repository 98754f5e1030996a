"""A merge is undone as a whole, over signed HTTP against the sandbox: its sources made again
under their names and `tag_source` with exactly their members, its target back on exactly the
contacts that carried it before (a kept target renamed back), by the `Undo` button on the
merge's end, told in the merge's thread; a contact someone else changed since is named and left
as it is; undoing the undo merges again. A merge whose delete failed is undone by its id (only
the target is taken back). Its record costs no member page with a warm index."""

from __future__ import annotations

from bot.cc.models import ActivityState
from bot.clock import FakeClock
from bot.store.jobs import JobStore
from bot.store.records import RecordStore
from bot.usecases.undo.record import loads
from tests.support.slack import Bot, run_poller, text_of, wait_for
from tests.support.undo import (
    active_emails,
    click_undo_and_confirm,
    confirm_button,
    end_with_undo,
    ids_of,
    members,
    tag_directly,
    untag_directly,
)


def _merged(bot: Bot, clock: FakeClock, line: str, fail_delete: bool = False) -> str:
    asked = bot.command(line, "m")
    preview = text_of(asked)
    assert bot.local.click(confirm_button(asked), key="m-yes").status_code == 200
    wait_for(lambda: any("Started job" in text_of(r) for r in bot.responses("m-yes")), what="job")
    if fail_delete:  # the add has started: the next activity is the delete
        bot.sandbox.faults.end_next_activity(ActivityState.FAILED, ["The delete was refused"])
    run_poller(bot, clock)
    return preview


def test_a_merge_undone_by_its_button_gives_back_the_sources_and_the_target_as_they_were(
    undo_bot: Bot, clock: FakeClock
) -> None:
    bot = undo_bot
    bot.command("create Spring fair --source Gala", "c1")
    bot.command("create Fair 2026", "c2")
    bot.command("create fair goers", "c3")
    emails = active_emails(bot, 450)
    first, second = ids_of(bot, emails[:300]), ids_of(bot, emails[200:])  # 100 in both
    carried = ids_of(bot, emails[250:280]) | ids_of(bot, active_emails(bot, 12, skip=1000))
    tag_directly(bot, "Spring fair", first)
    tag_directly(bot, "Fair 2026", second)
    tag_directly(bot, "fair goers", carried)  # 30 of the sources' members, and 12 others
    account = bot.sandbox.state.account()
    target = account.tag_by_name("fair goers")
    assert target is not None

    preview = _merged(bot, clock, "merge Spring fair, Fair 2026 --into Fair goers")
    assert "“fair goers” is kept, renamed to “Fair goers”" in preview, preview
    assert "an `Undo` makes them again" in preview
    assert "Recording who carries what before it starts, so it can be undone" in preview
    assert account.tag_by_name("Spring fair") is None and account.tag_by_name("Fair 2026") is None
    assert target.name == "Fair goers" and members(bot, "Fair goers") == first | second | carried

    # Someone else takes the target off one contact the merge gave it to.
    [changed] = sorted(ids_of(bot, emails[:10]))[:1]
    untag_directly(bot, "Fair goers", {changed})
    changed_email = account.contacts[changed].email

    [parent] = bot.parents()
    [job] = JobStore(bot.store).recent("T0001")
    record = RecordStore(bot.store).of_job("T0001", job.id)
    assert record is not None
    # A cold index: one count call, then one page of members for each source and the target.
    assert (loads(record).method, loads(record).calls) == ("pages", 4)
    end, button = end_with_undo(bot, parent.ts)
    assert "completed" in end.text and button["value"] == job.id
    added = (first | second) - carried - {changed}
    preview = click_undo_and_confirm(bot, button, "undo", clock)
    assert "creates the tag “Spring fair” (source “Gala”) again" in preview, preview
    assert "creates the tag “Fair 2026” again" in preview
    assert "Segments or automations that named the deleted tag's id do not follow" in preview
    assert "renames the tag “Fair goers” back to “fair goers”" in preview
    assert "give the tag “Spring fair” back to *300 contacts*" in preview
    assert "give the tag “Fair 2026” back to *250 contacts*" in preview
    assert f"remove the tag “Fair goers” from *{len(added)} contacts*" in preview
    assert "*1 contact* changed since by someone else" in preview and changed_email in preview
    assert "It runs as *3 activities*: 6 API calls to start" in preview

    assert members(bot, "Spring fair") == first and members(bot, "Fair 2026") == second
    remade = account.tag_by_name("Spring fair")
    assert remade is not None and remade.tag_source == "Gala"
    assert target.name == "fair goers" and members(bot, "fair goers") == carried
    assert bot.parents() == [parent], "the undo is told in the merge's own thread"
    assert any(a == "undo" and o == f"started {_undo_job(bot, job.id)}" for a, o in bot.audit())

    again = bot.local.click(button, key="undo-again")
    assert again.status_code == 200
    assert "already undone" in text_of(bot.wait_response("undo-again"))

    # The undo's end carries its own Undo: undoing it merges again.
    _, redo = end_with_undo(bot, parent.ts, nth=2)
    preview = click_undo_and_confirm(bot, redo, "redo", clock)
    assert "deletes the tag “Spring fair” again, which the undo made" in preview, preview
    assert "deletes the tag “Fair 2026” again" in preview
    assert "renames the tag “fair goers” back to “Fair goers”" in preview
    assert f"give the tag “fair goers” back to *{len(added)} contacts*" in preview
    assert "It runs as *2 activities*: 3 API calls to start" in preview
    assert account.tag_by_name("Spring fair") is None and account.tag_by_name("Fair 2026") is None
    assert target.name == "Fair goers"
    assert members(bot, "Fair goers") == (first | second | carried) - {changed}


def test_a_merge_whose_delete_failed_undone_by_id_only_takes_the_new_target_back(
    undo_bot: Bot, clock: FakeClock
) -> None:
    bot = undo_bot
    bot.command("create Alumni", "c1")
    bot.command("create Old alumni", "c2")
    emails = active_emails(bot, 80)
    first, second = ids_of(bot, emails[:50]), ids_of(bot, emails[40:])
    tag_directly(bot, "Alumni", first)
    tag_directly(bot, "Old alumni", second)
    # Finding 600 emails syncs the contact index (a change of another tag).
    bot.command("create Warm", "c3")
    bot.command("add Warm --contacts " + ", ".join(active_emails(bot, 600, skip=500)), "warm")
    wait_for(lambda: any("Started" in text_of(r) for r in bot.responses("warm")), what="warm")
    run_poller(bot, clock)
    _merged(bot, clock, "merge Alumni, Old alumni --into Graduates", fail_delete=True)
    [job] = [j for j in JobStore(bot.store).recent("T0001") if j.kind == "merge_tags"]
    record = RecordStore(bot.store).of_job("T0001", job.id)
    assert record is not None
    # A warm index: no member page, only its refresh after the add that ended since (the
    # contacts changed since its sync, 500 a call).
    assert (loads(record).method, loads(record).calls) == ("index", 2)
    assert members(bot, "Graduates") == first | second
    assert members(bot, "Alumni") == first and members(bot, "Old alumni") == second

    asked = bot.command(f"undo {job.id}", "undo")
    preview = text_of(asked)
    assert "creates the tag" not in preview and "renames" not in preview
    assert "remove the tag “Graduates” from *80 contacts*" in preview, preview
    assert bot.local.click(confirm_button(asked), key="undo-yes").status_code == 200
    wait_for(lambda: any("Started" in text_of(r) for r in bot.responses("undo-yes")))
    run_poller(bot, clock)
    assert members(bot, "Alumni") == first and members(bot, "Old alumni") == second
    assert members(bot, "Graduates") == set()


def _undo_job(bot: Bot, merge_job: str) -> str:
    record = RecordStore(bot.store).of_job("T0001", merge_job)
    assert record is not None and record.undo_job_id is not None
    return record.undo_job_id
