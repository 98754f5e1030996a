"""A rule whose line would need an approver, over signed HTTP against the strict fake Slack:
it waits for one like any request, is made only by someone else's Approve (checked again at
the click), and its runs then go through as approved, with the worker on the injected clock.
Denied or stale, nothing is made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.permissions import Permissions, Policy
from bot.ports import SingleAccount, SingleSlack
from bot.store.connections import ConnectionRepository
from bot.store.rules import Rule, RuleStore
from bot.usecases import Catalog, Operations
from bot.usecases.commands import REGISTRY
from bot.usecases.requests import Pipeline
from tests.slack.test_approvals import APPROVERS, ASKED_IN, World, _buttons, _shown, world_over
from tests.support.rules import worker
from tests.support.slack import text_of, wait_for

LINE = "every day at 09:00 add VIP --all-active"
ZONE = "America/New_York"  # 09:00 there is 14:00 UTC in January; the clock starts 1 Jan 00:00
UNTIL_NINE = 14 * 3600 + 1


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with world_over(tmp_path, APPROVERS) as served:
        served.fake.users["UPLAIN"]["tz"] = ZONE
        yield served


def rules(world: World) -> list[Rule]:
    return RuleStore(world.bot.store).of_workspace("T0001")


def worker_pipeline(world: World) -> Pipeline:
    """The worker's pipeline as in production: the creator's permissions asked of Slack, and
    approvals set up (so a run that is not taken as approved would wait again)."""
    bot, clock = world.bot, world.clock
    client = WebClient(token="xoxb-test", base_url=bot.slack.api_url)
    repo = ConnectionRepository(bot.store.engine, clock)
    permits = Permissions(repo, SingleSlack(client), Policy(), bot.store, clock)
    operations = Operations(bot.store, Catalog(clock=clock), clock=clock)
    return Pipeline(
        operations, SingleAccount(bot.account), REGISTRY, permits=permits, approvals=world.approvals
    )


def run_parents(world: World) -> list[str]:
    return [m.ts for m in world.fake.channel_messages(ASKED_IN) if "asked to add tag" in m.text]


def test_a_rule_of_all_active_contacts_waits_for_an_admin_then_runs_as_approved(
    world: World,
) -> None:
    asked = world.ask(LINE, "r1")
    assert "You asked to *add tag “VIP” to all active contacts*" in asked
    assert f"This makes a rule*: *every day at 09:00* ({ZONE})" in asked
    assert "This needs an approver" in asked and f"approvers' channel <#{APPROVERS}>" in asked
    assert rules(world) == []
    post = world.request_post()
    shown = _shown(post)
    assert "<@UPLAIN> asks for an approval" in shown
    assert f"This makes a rule*: *every day at 09:00* ({ZONE})" in shown
    assert "first run Thu 1 Jan 09:00 America/New_York" in shown
    assert [b["text"]["text"] for b in _buttons(post.blocks)] == ["Approve", "Deny"]

    world.click(post, "Approve", "UPLAIN", "own")  # the requester's own click
    assert "You asked for this" in text_of(world.bot.wait_response("own"))
    assert rules(world) == [] and _buttons(world.fake.message(APPROVERS, post.ts).blocks)

    world.click(post, "Approve", "UADMIN", "admin")
    made = text_of(world.bot.wait_response("admin"))
    assert "Rule `1`* made: *every day at 09:00* (America/New_York)" in made
    assert "approved by <@UADMIN>" in made
    [rule] = rules(world)
    assert (rule.creator_id, rule.channel_id, rule.tz) == ("UPLAIN", ASKED_IN, ZONE)
    assert rule.approved_by == "UADMIN" and rule.line == "add VIP --all-active"
    told = wait_for(lambda: [t for t in world.told("UPLAIN") if "the rule is made" in t])
    assert "Your request" in told[0] and "to make a rule, every day at 09:00" in told[0]
    decided = world.fake.message(APPROVERS, post.ts)
    assert _buttons(decided.blocks) == [] and "Approved* by <@UADMIN>" in _shown(decided)
    assert "the rule is made" in _shown(decided)
    assert "by <@UPLAIN>, approved by <@UADMIN>" in world.ask("rules", "list")
    assert world.bot.activities() == 0 and run_parents(world) == []  # made, not run

    with worker(world.bot, world.clock, "worker-1", worker_pipeline(world)) as running:
        running.rounds()
        world.clock.advance(UNTIL_NINE - 2)  # 08:59:59 in New York: not yet
        running.rounds()
        assert run_parents(world) == []
        world.clock.advance(2)
        [parent] = wait_for(lambda: run_parents(world), what="the run's parent message")
        running.rounds()
    posted = _shown(world.fake.message(ASKED_IN, parent))
    assert "<@UPLAIN> asked to add tag “VIP” to all active contacts" in posted
    assert "Rule `1`: every day at 09:00 (America/New_York), approved by <@UADMIN>" in posted
    assert world.bot.activities() == 1
    assert len(world.fake.channel_messages(APPROVERS)) == 1  # the run did not wait again
    [rule] = rules(world)
    assert rule.last_result is not None and rule.last_result.startswith("started")
    assert rule.failures == 0


def test_a_denied_rule_is_never_made(world: World) -> None:
    world.ask(LINE, "r1")
    post = world.request_post()
    world.click(post, "Deny", "UADMIN", "deny")
    wait_for(lambda: world.fake.calls_to("views.open"), what="the deny modal")
    view = world.fake.views[max(world.fake.views)]
    world.bot.local.submit(view, {"reason": "not every day"}, user="UADMIN")
    wait_for(lambda: "Denied" in text_of(world.fake.views[view["id"]]), what="denied")
    assert "Denied* by <@UADMIN>" in _shown(world.fake.message(APPROVERS, post.ts))
    wait_for(lambda: [t for t in world.told("UPLAIN") if "not every day" in t], what="told")
    assert rules(world) == []
    with worker(world.bot, world.clock, "worker-1", worker_pipeline(world)) as running:
        world.clock.advance(UNTIL_NINE)
        running.rounds()
    assert rules(world) == [] and world.bot.activities() == 0 and run_parents(world) == []


def test_a_rule_over_the_limit_waits_and_goes_stale_when_its_schedule_would_change(
    world: World,
) -> None:
    asked = world.ask("every monday at 07:30 add VIP --tags Volunteer", "big")  # 16 > OVER
    assert "This makes a rule*: *every monday at 07:30*" in asked and "needs an approver" in asked
    post = world.request_post()
    world.fake.users["UPLAIN"]["tz"] = "Europe/Paris"  # 07:30 would not be the time approved
    world.click(post, "Approve", "UADMIN", "admin")
    answer = text_of(world.bot.wait_response("admin"))
    assert "approved but not run" in answer and "time zone changed since it was asked" in answer
    assert "but not run" in _shown(world.fake.message(APPROVERS, post.ts))
    assert rules(world) == []


def test_an_admin_makes_the_rule_at_once(world: World) -> None:
    made = world.ask(LINE, "r1", user="UADMIN")
    assert "Rule `1`* made" in made and "needs an approver" not in made
    assert world.fake.channel_messages(APPROVERS) == []
    [rule] = rules(world)
    assert rule.approved_by is None


def test_a_small_rule_of_a_plain_member_is_made_without_an_approver(world: World) -> None:
    made = world.ask("every weekday at 08:00 add VIP --contacts contact1@example.com", "r1")
    assert "Rule `1`* made" in made and "needs an approver" not in made
    assert world.fake.channel_messages(APPROVERS) == []


def test_an_expired_rule_request_makes_nothing(world: World) -> None:
    world.ask(LINE, "r1")
    post = world.request_post()
    [approve, _] = _buttons(post.blocks)  # as a client that still shows the old message
    world.clock.advance(24 * 3600 + 60)
    world.poll()  # the worker's sweep
    assert "Expired* at" in _shown(world.fake.message(APPROVERS, post.ts))
    world.bot.local.click(approve, user="UADMIN", channel=APPROVERS, key="late")
    assert "decided already" in text_of(world.bot.wait_response("late"))
    assert rules(world) == [] and world.bot.activities() == 0
