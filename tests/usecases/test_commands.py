"""One-line /cctag commands over signed HTTP, answered in ephemeral replies and the channel."""

from __future__ import annotations

from tests.support.slack import Bot, text_of, wait_for


def test_help_lists_every_command(bot: Bot) -> None:
    reply = text_of(bot.command("help", "h"))
    commands = ("create", "rename", "add", "remove", "delete", "lists", "unlists", "tags")
    for command in (*commands, "status", "connect", "disconnect"):
        assert f"/cctag {command}" in reply


def test_create_explains_duplicates_and_bad_names(bot: Bot) -> None:
    assert "Created the tag *Donor 2026*" in text_of(bot.command('create "Donor 2026"', "c1"))
    duplicate = text_of(bot.command("create vip", "c2"))
    assert "“vip” exists already" in duplicate and "Nothing was changed" in duplicate
    assert "cannot contain < or >" in text_of(bot.command("create &lt;b&gt;", "c3"))
    assert "Name the tag" in text_of(bot.command("create", "c4"))
    outcomes = [outcome for action, outcome in bot.audit() if action == "create_tag"]
    assert any(o.startswith("created") for o in outcomes)
    assert sum(o.startswith("refused") for o in outcomes) == 2
    assert any(a == "create" and o.startswith("refused: Name the tag") for a, o in bot.audit())


def test_create_with_a_source_label(bot: Bot) -> None:
    reply = text_of(bot.command('create Fair 2026 --source "Spring fair"', "s1"))
    assert "Created the tag *Fair 2026*, source “Spring fair”" in reply
    tag = bot.sandbox.state.account().tag_by_name("Fair 2026")
    assert tag is not None and tag.tag_source == "Spring fair"
    assert "`--source` needs a label" in text_of(bot.command("create Fair 2027 --source", "s2"))


def test_add_one_line_posts_parent_and_tracks(bot: Bot) -> None:
    reply = text_of(bot.command('add VIP, "Donor 2025" --lists "Newsletter"', "a1"))
    assert "Started: add tags “VIP”, “Donor 2025” to contacts on list “Newsletter”" in reply
    [parent] = bot.parents()
    assert parent.text.startswith("<@U0001> asked to add tags “VIP”, “Donor 2025”")
    tracked = bot.store.recent_activities("T0001")
    assert len(tracked) == 1 and tracked[0].parent_ts == parent.ts
    assert tracked[0].activity_id in parent.text
    assert tracked[0].kind == "contacts_taggings_add"
    assert ("contacts_taggings_add", f"started {tracked[0].activity_id}") in bot.audit()


def test_unknown_names_are_all_listed_and_nothing_starts(bot: Bot) -> None:
    reply = text_of(bot.command("add VIP, Nope, Nada --lists Newsletter, Ghost", "u1"))
    assert "Unknown tags: “Nope”, “Nada”" in reply
    assert "Unknown list: “Ghost”" in reply
    assert bot.parents() == [] and bot.activities() == 0


def test_unknown_email_in_contacts_source(bot: Bot) -> None:
    """Unknown emails are listed in the preview; the contacts found are still tagged."""
    reply = text_of(bot.command("add VIP --contacts contact1@example.com, nobody@x.org", "e1"))
    assert "*1 contact* found" in reply and "*1 email* not found: nobody@x.org" in reply
    assert "Started:" in reply and bot.activities() == 1
    nobody = text_of(bot.command("add VIP --contacts nobody@x.org, none@x.org", "e2"))
    assert "No contact with the emails nobody@x.org and none@x.org" in nobody
    assert bot.activities() == 1


def test_limits_say_which_and_by_how_much(bot: Bot) -> None:
    emails = ", ".join(f"c{i}@example.com" for i in range(501))
    reply = text_of(bot.command(f"add VIP --all-active --exclude {emails}", "l1"))
    assert "501 contacts to exclude is 1 over the limit of 500" in reply
    assert bot.activities() == 0


def test_parse_errors_are_explained(bot: Bot) -> None:
    reply = text_of(bot.command("add VIP --lists a --tags b", "p1"))
    assert "Choose exactly one source" in reply and "/cctag help" in reply
    assert "--engagement only works with /cctag lists" in text_of(
        bot.command("add VIP --engagement high", "p2")
    )
    assert "I do not know `frobnicate`" in text_of(bot.command("frobnicate", "p3"))


def test_lists_source_gaps_are_said_clearly(bot: Bot) -> None:
    add = text_of(bot.command("lists Newsletter --new-subscribers", "g1"))
    assert "add_list_memberships has no new-subscriber source" in add
    remove = text_of(bot.command("unlists Newsletter --segment 1", "g2"))
    assert "remove_list_memberships has no segment source" in remove
    assert bot.activities() == 0


def test_lists_and_unlists_start_list_activities(bot: Bot) -> None:
    added = text_of(bot.command('lists "VIP Customers" --tags VIP', "l1"))
    assert "Started: add contacts tagged “VIP” to list “VIP Customers”" in added
    removed = text_of(bot.command('unlists "VIP Customers" --engagement high', "l2"))
    assert "remove contacts with high engagement from list “VIP Customers”" in removed
    kinds = sorted(t.kind for t in bot.store.recent_activities("T0001"))
    assert kinds == ["add_list_memberships", "remove_list_memberships"]


def test_exclude_only_with_lists_or_all_active(bot: Bot) -> None:
    reply = text_of(bot.command("add VIP --tags Volunteer --exclude contact1@example.com", "x1"))
    assert "only works with all active contacts or lists" in reply


def test_tags_shows_counts(bot: Bot) -> None:
    reply = text_of(bot.command("tags", "t1"))
    assert "*VIP*:" in reply and "contact" in reply and "Donor 2025" in reply


def test_status_reports_an_activity(bot: Bot) -> None:
    bot.command("remove Volunteer --lists Newsletter", "s0")
    [tracked] = bot.store.recent_activities("T0001")
    reply = text_of(bot.command(f"status {tracked.activity_id}", "s1"))
    assert f"Activity `{tracked.activity_id}` is *" in reply
    assert "asked by <@U0001>" in reply
    calls = bot.sandbox.state.request_count()
    assert "“nope” is not an activity or job id" in text_of(bot.command("status nope", "s2"))
    unknown = "00000000-0000-4000-8000-000000000000"
    assert f"No activity or job `{unknown}`" in text_of(bot.command(f"status {unknown}", "s3"))
    assert bot.sandbox.state.request_count() == calls + 1  # only the UUID cost a call


def test_all_active_asks_first_then_confirm_starts_once(bot: Bot) -> None:
    reply = bot.command("add VIP --all-active --exclude contact1@example.com", "w1")
    text = text_of(reply)
    assert "all active contacts, except 1 contact" in text and "Confirm to start" in text
    assert "about *" in text  # the count it touches
    assert bot.parents() == []
    buttons = reply["blocks"][1]["elements"]
    confirm = next(b for b in buttons if b["action_id"] == "confirm_command")
    first = bot.local.click(confirm, key="w1-click")
    second = bot.local.click(confirm, key="w1-click2")  # double click
    assert first.status_code == second.status_code == 200
    done = wait_for(
        lambda: [r for r in bot.responses("w1-click") if "Started" in text_of(r)], what="start"
    )
    assert done[0]["replace_original"] is True
    bot.wait_tracked()
    assert len(bot.parents()) == 1 and bot.activities() == 1
    assert bot.responses("w1-click2") == []


def test_cancel_changes_nothing(bot: Bot) -> None:
    reply = bot.command("add VIP --all-active", "k1")
    cancel = reply["blocks"][1]["elements"][1]
    bot.local.click(cancel, key="k1-cancel")
    assert "Cancelled" in text_of(bot.wait_response("k1-cancel"))
    confirm = reply["blocks"][1]["elements"][0]
    bot.local.click(confirm, key="k1-late")  # too late: already cancelled
    assert bot.activities() == 0 and bot.parents() == []
    assert ("confirm", "cancelled") in bot.audit()


def test_delete_one_line_shows_counts_and_confirms(bot: Bot) -> None:
    reply = bot.command('delete "Board Member", Volunteer', "d1")
    text = text_of(reply)
    assert (
        "*Board Member*:" in text
        and "*Volunteer*:" in text
        and "removes it from every contact" in text
    )
    assert bot.activities() == 0
    bot.local.click(reply["blocks"][1]["elements"][0], key="d1-ok")
    [tracked] = bot.wait_tracked()
    assert tracked.kind == "contacts_tags_delete"


def test_retried_delivery_starts_nothing_twice(bot: Bot) -> None:
    body = bot.local.command_body(
        "add VIP --lists Newsletter", user="U0001", channel="C0001", key="r1"
    )
    assert bot.local.post(body).status_code == 200
    retried = bot.local.post(
        body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retried.status_code == 200
    bot.wait_response("r1")
    bot.wait_tracked()
    assert len(bot.parents()) == 1 and bot.activities() == 1


def test_failed_start_updates_the_parent(bot: Bot) -> None:
    bot.sandbox.faults.fail(
        path="/activities/contacts_taggings_add", method="POST", status=400, times=1
    )
    reply = text_of(bot.command("add VIP --lists Newsletter", "f1"))
    assert "Constant Contact refused" in reply
    [parent] = bot.parents()
    assert "*Not started*" in parent.text and parent.edits == 1
    assert bot.store.recent_activities("T0001") == []


def test_rename_a_tag_then_use_its_new_name(bot: Bot) -> None:
    reply = text_of(bot.command('rename "Donor 2025" --to Donor 2026', "n1"))
    assert "Renamed the tag “Donor 2025” to *Donor 2026*" in reply
    account = bot.sandbox.state.account()
    assert account.tag_by_name("Donor 2025") is None and account.tag_by_name("Donor 2026")
    assert any(a == "rename_tag" and o.startswith("renamed") for a, o in bot.audit())
    started = text_of(bot.command('add "Donor 2026" --lists Newsletter', "n2"))
    assert "Started: add tag “Donor 2026”" in started  # the catalog forgot the old name


def test_rename_explains_duplicates_bad_names_and_unknown_tags(bot: Bot) -> None:
    duplicate = text_of(bot.command("rename Volunteer --to vip", "m1"))
    assert "A tag named “vip” exists already" in duplicate and "Nothing was changed" in duplicate
    calls = bot.sandbox.state.request_count()
    assert "cannot contain < or >" in text_of(bot.command("rename Volunteer --to &lt;b&gt;", "m2"))
    assert bot.sandbox.state.request_count() == calls  # a bad name is refused before any call
    assert "Unknown tag: “Nope”" in text_of(bot.command("rename Nope --to Fine", "m3"))
    assert "after --to" in text_of(bot.command("rename Volunteer", "m4"))
    assert "Name the tag to rename" in text_of(bot.command("rename --to X", "m5"))
    assert bot.sandbox.state.account().tag_by_name("Volunteer") is not None
    outcomes = [o for a, o in bot.audit() if a in ("rename_tag", "rename")]
    assert len(outcomes) == 5 and all(o.startswith("refused") for o in outcomes)
    assert bot.parents() == []  # renaming asks nothing and posts nothing in the channel


def test_an_engagement_level_is_read_in_any_case_and_a_wrong_one_refused_in_words(
    bot: Bot,
) -> None:
    started = text_of(bot.command("lists Newsletter --engagement HIGH", "e1"))
    assert "Started" in started
    sent = bot.sandbox.state.account().activities
    assert any(a.kind == "add_list_memberships" for a in sent.values())
    refused = text_of(bot.command("lists Newsletter --engagement Loud", "e2"))
    assert "`Loud` is not an engagement level: choose one of unqualified, low" in refused
    assert "Input should be" not in refused
    assert len(bot.parents()) == 1  # the refused one posted nothing
