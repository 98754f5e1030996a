"""/cctag one-line forms over signed HTTP: replies, parents, confirmations, retries, refusals."""

from __future__ import annotations

import json
import time

import httpx

from bot.slack.local import command_body, signed_headers
from bot.slack.views import ACTION_CANCEL, ACTION_CONFIRM
from tests.slack.conftest import CHANNEL, SECRET, TEAM, USER, World, wait_for


def ack_text(answer: httpx.Response) -> str:
    """bolt answers a text-only ack as plain text, one with blocks as JSON."""
    try:
        return str(json.loads(answer.text).get("text", ""))
    except ValueError:
        return answer.text


def _confirm_value(response: dict) -> str:
    for block in response.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == ACTION_CONFIRM:
                return str(element["value"])
    raise AssertionError(f"no Confirm button in {response}")


def test_unsigned_forged_and_stale_requests_get_401(world: World) -> None:
    body = command_body("help", team=TEAM, user=USER, channel=CHANNEL, response_url="x")
    url = world.sender.url
    unsigned = httpx.post(
        url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    forged = httpx.post(url, content=body, headers=signed_headers("not-the-secret", body))
    stale = httpx.post(
        url, content=body, headers=signed_headers(SECRET, body, int(time.time()) - 600)
    )
    assert [unsigned.status_code, forged.status_code, stale.status_code] == [401, 401, 401]
    assert world.fake.calls == [] and world.store.audit_log(TEAM) == []


def test_healthz_answers_200_while_the_database_is_usable(world: World) -> None:
    answer = httpx.get(f"{world.web_url}/healthz")
    assert answer.status_code == 200 and answer.json()["database"] == "ok"


def test_help_lists_every_command(world: World) -> None:
    answer = world.command("help")
    text = ack_text(answer)
    for command in ("add", "remove", "delete", "lists", "unlists", "create", "tags", "status"):
        assert f"/cctag {command}" in text


def test_one_line_add_posts_one_parent_and_tracks_the_activity(world: World) -> None:
    answer = world.command('add VIP --lists "Newsletter"')
    assert answer.status_code == 200 and ack_text(answer) == "Working on it…"
    reply = world.next_response()
    assert "Started activity" in reply["text"]
    (tracked,) = wait_for(world.tracked)
    (parent,) = world.parents()
    assert parent.ts == tracked.parent_ts
    assert f"<@{USER}>" in parent.text and "“VIP”" in parent.text and "“Newsletter”" in parent.text
    assert tracked.activity_id in json.dumps(parent.blocks) and "initialized" in parent.text
    assert world.activities_started() == 1
    entry = world.audited(lambda e: e.outcome.startswith("started"))
    assert entry.action == "add_tags" and entry.user_id == USER


def test_unknown_names_are_all_listed_and_nothing_starts(world: World) -> None:
    world.command("add VIP, Nope --lists Nowhere --exclude nobody@example.com")
    reply = world.next_response()
    assert "Unknown tags: “Nope”" in reply["text"]
    assert "Unknown lists: “Nowhere”" in reply["text"]
    assert world.parents() == [] and world.activities_started() == 0
    world.audited(lambda e: e.outcome.startswith("refused") and "Nope" in e.outcome)


def test_limits_say_which_and_by_how_much_before_any_call(world: World) -> None:
    emails = ", ".join(f"c{i}@example.com" for i in range(501))
    world.command(f"add VIP --contacts {emails}")
    reply = world.next_response()
    assert "501 contacts is 1 over the limit of 500" in reply["text"]
    assert world.sandbox.state.request_count("/v3/contacts") == 0


def test_exclude_only_where_the_api_allows_it(world: World) -> None:
    world.command("add VIP --new-subscribers --exclude contact1@example.com")
    reply = world.next_response()
    assert "all active contacts or lists" in reply["text"]
    assert world.activities_started() == 0


def test_syntax_errors_are_answered_in_the_ack_and_audited(world: World) -> None:
    answer = world.command("add VIP --lists a --tags b")
    assert "exactly one source" in ack_text(answer)
    world.audited(lambda e: "exactly one source" in e.outcome)
    assert world.activities_started() == 0


def test_all_active_asks_to_confirm_with_the_count_then_starts_once(world: World) -> None:
    world.command("add VIP --all-active --exclude contact1@example.com")
    preview = world.next_response()
    active = len(world.sandbox.state.account("demo").active)
    assert f"{active - 1} contacts" in preview["text"]
    assert world.activities_started() == 0
    plan_id = _confirm_value(preview)
    world.click(ACTION_CONFIRM, plan_id)
    world.click(ACTION_CONFIRM, plan_id)  # a double click
    wait_for(world.tracked)
    wait_for(lambda: any("Started" in r.get("text", "") for r in world.responses()))
    time.sleep(0.3)  # give the second click's work the time to (not) start another
    assert world.activities_started() == 1 and len(world.parents()) == 1


def test_cancel_starts_nothing_and_is_audited(world: World) -> None:
    world.command("delete VIP")
    preview = world.next_response()
    assert "“VIP”: " in preview["text"] and "contacts" in preview["text"]
    world.click(ACTION_CANCEL, _confirm_value(preview))
    assert "nothing was started" in world.next_response()["text"]
    world.audited(lambda e: e.outcome == "cancelled")
    assert world.activities_started() == 0


def test_delete_shows_each_tags_count_and_starts_after_confirming(world: World) -> None:
    account = world.sandbox.state.account("demo")
    tag_id = next(t for t in account.tags.values() if t.name == "Volunteer").tag_id
    carrying = len(account.tag_members.get(tag_id, set()))
    world.command("delete Volunteer")
    preview = world.next_response()
    assert f"“Volunteer”: {carrying} contacts" in preview["text"]
    world.click(ACTION_CONFIRM, _confirm_value(preview))
    (tracked,) = wait_for(world.tracked)
    assert tracked.kind == "contacts_tags_delete"


def test_a_retried_delivery_starts_nothing_twice(world_on: World) -> None:
    world = world_on
    world.command('add VIP --lists "Newsletter"', trigger_id="trigger-same")
    world.command(
        'add VIP --lists "Newsletter"',
        trigger_id="trigger-same",
        headers={"X-Slack-Retry-Num": "1"},
    )
    wait_for(world.tracked)
    time.sleep(0.3)  # give the retried delivery's lazy work the time to (not) run
    assert world.activities_started() == 1 and len(world.parents()) == 1
    assert len(world.responses()) == 1


def test_create_explains_duplicates_and_invalid_names(world: World) -> None:
    world.command('create "Spring fair" --source Booth')
    assert "Created the tag “Spring fair”" in world.next_response()["text"]
    world.command("create vip")
    assert "exists already" in world.next_response()["text"]
    world.command("create a<b")
    assert "cannot contain <" in world.next_response()["text"]
    outcomes = [e.outcome for e in world.audit()]
    assert sum(o.startswith("created") for o in outcomes) == 1
    assert sum(o.startswith("refused") for o in outcomes) == 2


def test_tags_lists_names_with_counts(world: World) -> None:
    world.command("tags")
    reply = world.next_response()
    account = world.sandbox.state.account("demo")
    for tag in account.tags.values():
        count = len(account.tag_members.get(tag.tag_id, set()))
        assert f"{tag.name}: {count} contact" in reply["text"]


def test_status_reports_an_activity_and_unknown_ids(world: World) -> None:
    world.command('add VIP --lists "Newsletter"')
    (tracked,) = wait_for(world.tracked)
    world.next_response()
    world.command(f"status {tracked.activity_id}")
    reply = world.next_response()
    assert tracked.activity_id in reply["text"] and "Newsletter" in reply["text"]
    world.command("status no-such-activity")
    assert "No activity `no-such-activity`" in world.next_response()["text"]


def test_the_ack_comes_before_slow_lookups(world: World) -> None:
    world.sandbox.faults.delay(1.5, path="/contact_tags", times=1)
    started = time.monotonic()
    answer = world.command('add VIP --lists "Newsletter"')
    acked = time.monotonic() - started
    assert answer.status_code == 200 and acked < 1.0
    assert world.responses() == []
    assert "Started" in world.next_response()["text"]


def test_a_channel_the_bot_cannot_post_in_starts_nothing(world: World) -> None:
    world.fake.fail("chat.postMessage", "not_in_channel")
    world.command('add VIP --lists "Newsletter"')
    assert "/invite @cctag" in world.next_response()["text"]
    assert world.activities_started() == 0


def test_a_failure_to_start_updates_the_parent(world: World) -> None:
    world.sandbox.faults.fail(path="/activities/contacts_taggings_add", status=400)
    world.command('add VIP --lists "Newsletter"')
    reply = world.next_response()
    (parent,) = world.parents()
    assert "could not start" in parent.text and parent.edits == 1
    assert "Constant Contact" in reply["text"]
    assert world.tracked() == []
