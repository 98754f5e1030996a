"""Modals: forms, type-ahead from the cache, inline errors, working views, confirmations."""

from __future__ import annotations

from typing import Any

from tests.support.slack import Bot, text_of, wait_for


def _open(bot: Bot, text: str) -> dict[str, Any]:
    answer = bot.local.command(text, key=f"open-{text}")
    assert answer.status_code == 200 and answer.text == ""
    return wait_for(lambda: list(bot.fake.views.values()), what="a modal")[-1]


def _tag(bot: Bot, name: str) -> tuple[str, str]:
    tag = bot.account.find_tag_by_name(name)
    assert tag is not None
    return (tag.tag_id, tag.name)


def _list(bot: Bot, name: str) -> tuple[str, str]:
    found = bot.account.find_list_by_name(name)
    assert found is not None
    return (found.list_id, found.name)


def _settled(bot: Bot, view_id: str, word: str) -> dict[str, Any]:
    wait_for(lambda: word in text_of(bot.view(view_id)), what=f"view {word}")
    return bot.view(view_id)


def test_add_opens_the_tagging_form(bot: Bot) -> None:
    view = _open(bot, "add")
    assert view["callback_id"] == "tagging_form" and view["title"]["text"] == "Add tags"
    labels = text_of(view)
    assert "Tags to add" in labels and "Which contacts" in labels and "Except these" in labels
    assert '"channel":"C0001"' in view["private_metadata"]


def test_type_ahead_is_served_from_the_cache(bot: Bot) -> None:
    _open(bot, "remove")
    wait_for(lambda: bot.sandbox.state.request_count("/contact_tags") >= 1, what="warm cache")
    before = bot.sandbox.state.request_count("/contact_tags")
    for typed in ("", "v", "vi", "vip", "don"):
        answer = bot.local.options("tag_select", typed)
        assert answer.status_code == 200
    names = [o["text"]["text"] for o in bot.local.options("tag_select", "vi").json()["options"]]
    assert names == ["VIP"]
    donor = bot.local.options("tag_select", "don").json()["options"]
    assert [o["text"]["text"] for o in donor] == ["Donor 2025"]
    assert bot.sandbox.state.request_count("/contact_tags") == before
    lists = bot.local.options("list_select", "news").json()["options"]
    assert [o["text"]["text"] for o in lists] == ["Newsletter"]


def test_missing_input_is_an_inline_error(bot: Bot) -> None:
    view = _open(bot, "add")
    answer = bot.local.submit(view, {"source_kind": "contacts"})
    body = answer.json()
    assert body["response_action"] == "errors"
    assert body["errors"]["targets"] == "Pick at least one"
    assert "Fill this in for “contacts”" in body["errors"]["source_contacts"]
    assert bot.activities() == 0


def test_limits_are_inline_errors_on_their_field(bot: Bot) -> None:
    view = _open(bot, "add")
    emails = ", ".join(f"c{i}@example.com" for i in range(501))
    values = {
        "targets": [_tag(bot, "VIP")],
        "source_kind": "all-active",
        "exclude": emails,
    }
    body = bot.local.submit(view, values).json()
    assert body["response_action"] == "errors"
    assert "501 contacts to exclude is 1 over the limit of 500" in body["errors"]["exclude"]


def test_what_one_activity_cannot_hold_is_no_error_but_a_job(bot: Bot) -> None:
    """51 tags or 501 contacts are planned as a job of several activities, not refused."""
    view = _open(bot, "add")
    tags = [(f"id{i}", f"t{i}") for i in range(51)]
    emails = ", ".join(f"c{i}@example.com" for i in range(501))
    body = bot.local.submit(
        view, {"targets": tags, "source_kind": "contacts", "source_contacts": emails}
    ).json()
    assert body["response_action"] == "update"


def test_submit_shows_working_then_started_and_posts_parent(bot: Bot) -> None:
    view = _open(bot, "add")
    values = {"targets": [_tag(bot, "VIP")], "source_lists": [_list(bot, "Newsletter")]}
    body = bot.local.submit(view, values).json()
    assert body["response_action"] == "update"
    assert "Working on it" in text_of(body["view"])
    done = _settled(bot, view["id"], "Started")
    assert "add tag “VIP” to contacts on list “Newsletter”" in text_of(done)
    [tracked] = bot.wait_tracked()
    [parent] = bot.parents()
    assert parent.ts == tracked.parent_ts and "<@U0001> asked to add tag “VIP”" in parent.text


def test_double_submit_starts_one_activity(bot: Bot) -> None:
    view = _open(bot, "remove")
    values = {
        "targets": [_tag(bot, "VIP")],
        "source_kind": "tags",
        "source_tags": [_tag(bot, "Volunteer")],
    }
    first = bot.local.submit(view, values)
    second = bot.local.submit(view, values)
    assert first.json()["response_action"] == second.json()["response_action"] == "update"
    _settled(bot, view["id"], "Started")
    bot.wait_tracked()
    assert bot.activities() == 1 and len(bot.parents()) == 1


def test_all_active_goes_through_a_confirm_view(bot: Bot) -> None:
    view = _open(bot, "add")
    values = {
        "targets": [_tag(bot, "VIP")],
        "source_kind": "all-active",
        "exclude": "contact1@example.com",
    }
    bot.local.submit(view, values)
    confirm = _settled(bot, view["id"], "until you confirm")
    assert confirm["callback_id"] == "confirm_view" and confirm["submit"]["text"] == "Confirm"
    assert "all active contacts, except 1 contact" in text_of(confirm)
    assert "about *" in text_of(confirm) and bot.activities() == 0
    first = bot.local.submit(confirm).json()
    bot.local.submit(confirm)  # double click on Confirm
    assert "Starting" in text_of(first["view"])
    _settled(bot, view["id"], "Started")
    bot.wait_tracked()
    assert bot.activities() == 1 and len(bot.parents()) == 1


def test_delete_form_shows_counts_then_deletes(bot: Bot) -> None:
    view = _open(bot, "delete")
    bot.local.submit(view, {"targets": [_tag(bot, "Board Member")]})
    confirm = _settled(bot, view["id"], "until you confirm")
    text = text_of(confirm)
    assert (
        "*Board Member*:" in text and "contact" in text and "removes it from every contact" in text
    )
    bot.local.submit(confirm)
    _settled(bot, view["id"], "Started")
    [tracked] = bot.wait_tracked()
    assert tracked.kind == "contacts_tags_delete"


def test_unlists_form_leaves_out_the_segment(bot: Bot) -> None:
    view = _open(bot, "unlists")
    assert view["callback_id"] == "lists_form"
    text = text_of(view)
    assert "A segment cannot be the source" in text and "Segment id" not in text
    values = {
        "targets": [_list(bot, "Newsletter")],
        "source_kind": "engagement",
        "source_engagement": "high",
    }
    bot.local.submit(view, values)
    _settled(bot, view["id"], "Started")
    [tracked] = bot.wait_tracked()
    assert tracked.kind == "remove_list_memberships"


def test_lists_form_offers_segment_and_says_why_no_new_subscribers(bot: Bot) -> None:
    view = _open(bot, "lists")
    text = text_of(view)
    assert "Segment id" in text and "New subscribers cannot be added to lists" in text
    values = {
        "targets": [_list(bot, "VIP Customers")],
        "source_kind": "segment",
        "source_segment": "1",
    }
    bot.local.submit(view, values)
    _settled(bot, view["id"], "Started")
    [tracked] = bot.wait_tracked()
    assert tracked.kind == "add_list_memberships"


def test_a_tag_gone_meanwhile_is_reported_in_the_modal(bot: Bot) -> None:
    view = _open(bot, "add")
    values = {"targets": [("no-such-id", "Gone")], "source_lists": [_list(bot, "Newsletter")]}
    bot.local.submit(view, values)
    failed = _settled(bot, view["id"], "Unknown tag")
    assert "“no-such-id”" in text_of(failed) and "Nothing was changed" in text_of(failed)
    assert bot.activities() == 0


def test_a_failed_update_after_the_start_still_says_it_started_with_its_id(bot: Bot) -> None:
    view = _open(bot, "add")
    values = {"targets": [_tag(bot, "VIP")], "source_lists": [_list(bot, "Newsletter")]}
    bot.fake.fail("views.update", "internal_error")  # the "Started" view is refused once
    assert bot.local.submit(view, values).json()["response_action"] == "update"

    [tracked] = bot.wait_tracked()
    told = _settled(bot, view["id"], "Started")
    shown = text_of(told)
    assert tracked.activity_id in shown and "do not run it again" in shown
    assert "nothing was started" not in shown.lower() and "Nothing was changed" not in shown
    assert len(bot.fake.calls_to("views.update")) == 2
