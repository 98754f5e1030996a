"""Modals: type-ahead from a cache, inline errors, working views, confirmations, one activity."""

from __future__ import annotations

import json
import time

from bot.slack.forms import (
    BLOCK_CONTACTS,
    BLOCK_DIRECTION,
    BLOCK_EXCLUDE,
    BLOCK_NAME,
    BLOCK_SOURCE_KIND,
    BLOCK_SOURCE_LISTS,
    BLOCK_TARGETS,
)
from tests.slack.conftest import World, chosen, picked, typed, view_text, wait_for


def _open(world: World, text: str) -> str:
    assert world.command(text).text == ""
    view_id, _ = world.opened_view()
    return view_id


def _tagging(tags: list[str], kind: str, **fields: dict) -> dict:
    values = {
        BLOCK_TARGETS: {"tags": picked(*tags)},
        BLOCK_SOURCE_KIND: {"value": chosen(kind)},
    }
    return values | {
        block: {"value" if block != BLOCK_SOURCE_LISTS else "lists": v}
        for block, v in fields.items()
    }


def test_type_ahead_answers_names_from_one_cached_call(world: World) -> None:
    first = world.options("tags", "vol").json()["options"]
    second = world.options("tags", "").json()["options"]
    assert [o["text"]["text"] for o in first] == ["Volunteer"]
    assert {o["text"]["text"] for o in second} >= {"VIP", "Donor 2025", "Volunteer"}
    assert world.sandbox.state.request_count("/v3/contact_tags", "GET") == 1
    world.clock.advance(61)  # the cache is short-lived
    world.options("tags", "v")
    assert world.sandbox.state.request_count("/v3/contact_tags", "GET") == 2


def test_add_modal_starts_one_activity_even_when_submitted_twice(world: World) -> None:
    view_id = _open(world, "add")
    values = _tagging(["VIP"], "lists", **{BLOCK_SOURCE_LISTS: picked("Newsletter")})
    first = world.submit(view_id, values)
    assert first.json()["response_action"] == "update"
    assert "Checking" in view_text(first.json()["view"])
    world.submit(view_id, values)  # a double click on submit
    done = world.view_shown(view_id, lambda v: "Started activity" in view_text(v))
    (tracked,) = wait_for(world.tracked)
    time.sleep(0.3)
    assert world.activities_started() == 1 and len(world.parents()) == 1
    assert tracked.activity_id in view_text(done)


def test_input_errors_come_back_inline_without_any_call(world: World) -> None:
    view_id = _open(world, "add")
    values = _tagging(
        ["VIP"], "contacts", **{BLOCK_CONTACTS: typed("not-an-email@"), BLOCK_EXCLUDE: typed("")}
    )
    answer = world.submit(view_id, values).json()
    assert answer["response_action"] == "errors"
    assert "not an email address" in answer["errors"][BLOCK_CONTACTS]
    values = _tagging(["VIP"], "new_subscribers", **{BLOCK_EXCLUDE: typed("a@example.com")})
    answer = world.submit(view_id, values).json()
    assert "all active contacts or lists" in answer["errors"][BLOCK_EXCLUDE]
    assert world.sandbox.state.request_count("/v3/contacts") == 0


def test_unknown_emails_reopen_the_form_with_the_problem_and_the_input(world: World) -> None:
    view_id = _open(world, "remove")
    values = _tagging(["VIP"], "contacts", **{BLOCK_CONTACTS: typed("nobody@example.com")})
    world.submit(view_id, values)
    view = world.view_shown(view_id, lambda v: "Nothing was started" in view_text(v))
    assert "Unknown contacts: “nobody@example.com”" in view_text(view)
    assert "nobody@example.com" in json.dumps(view["blocks"])  # the input is kept
    world.audited(lambda e: e.outcome.startswith("refused") and "nobody" in e.outcome)
    assert world.activities_started() == 0


def test_all_active_shows_the_count_and_starts_after_confirming(world: World) -> None:
    view_id = _open(world, "add")
    world.submit(view_id, _tagging(["VIP"], "all_active"))
    confirm = world.view_shown(view_id, lambda v: v.get("callback_id") == "cctag_confirm")
    active = len(world.sandbox.state.account("demo").active)
    assert f"{active} contacts" in view_text(confirm)
    assert world.activities_started() == 0
    world.submit(view_id, {})
    world.view_shown(view_id, lambda v: "Started activity" in view_text(v))
    assert world.activities_started() == 1


def test_delete_modal_confirms_with_counts(world: World) -> None:
    view_id = _open(world, "delete")
    world.submit(view_id, {BLOCK_TARGETS: {"tags": picked("VIP", "Volunteer")}})
    confirm = world.view_shown(view_id, lambda v: v.get("callback_id") == "cctag_confirm")
    assert "“VIP”: " in view_text(confirm) and "“Volunteer”: " in view_text(confirm)
    assert confirm["submit"]["text"] == "Delete"
    world.submit(view_id, {})
    (tracked,) = wait_for(world.tracked)
    assert tracked.kind == "contacts_tags_delete"


def test_lists_modal_removes_contacts_from_lists(world: World) -> None:
    view_id = _open(world, "unlists")
    values = {
        BLOCK_DIRECTION: {"value": chosen("remove_from_lists")},
        BLOCK_TARGETS: {"lists": picked("Donors")},
        BLOCK_SOURCE_KIND: {"value": chosen("contacts")},
        BLOCK_CONTACTS: {"value": typed("contact1@example.com, contact2@example.com")},
    }
    world.submit(view_id, values)
    (tracked,) = wait_for(world.tracked)
    assert tracked.kind == "remove_list_memberships"
    assert "Remove 2 contacts" in world.parents()[0].text


def test_create_modal_explains_a_duplicate_in_the_form(world: World) -> None:
    view_id = _open(world, "create")
    answer = world.submit(view_id, {BLOCK_NAME: {"value": typed("a>b")}}).json()
    assert "cannot contain >" in answer["errors"][BLOCK_NAME]
    world.submit(view_id, {BLOCK_NAME: {"value": typed("VIP")}})
    view = world.view_shown(view_id, lambda v: "exists already" in view_text(v))
    assert view["callback_id"] == "cctag_create"
