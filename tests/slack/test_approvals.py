"""Approvals over signed HTTP against the strict fake Slack: anyone can ask, the right people
decide, once, on the plan as it was previewed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.cc.client import CCApi
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.fakeslack.server import FakeSlack, FakeSlackServer, SlackMessage
from bot.devkit.local_slack import LocalSlack
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.threaded_server import ThreadedServer
from bot.permissions import Permissions, Policy
from bot.poller import Poller
from bot.ports import SingleAccount, SingleSlack
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.approvals import SlackApprovalPosts
from bot.slack.workspaces import HomeData
from bot.store import Store
from bot.store.approvals import ApprovalStore
from bot.store.connections import ConnectionRepository
from bot.usecases.approvals import ApprovalRules, Approvals
from bot.web import create_web_app
from tests.support.slack import SECRET, Bot, text_of, wait_for

APPROVERS = "C0APPROVE"
ASKED_IN = "C0001"
OVER = 10  # contacts: a change over this, asked by a non-admin, needs an approver


@dataclass
class World:
    bot: Bot
    clock: FakeClock
    approvals: Approvals

    @property
    def fake(self) -> FakeSlack:
        return self.bot.fake

    def ask(self, text: str, key: str, user: str = "UPLAIN") -> str:
        return text_of(self.bot.command(text, key, user=user))

    def request_post(self, conversation: str = APPROVERS, index: int = 0) -> SlackMessage:
        return wait_for(lambda: self.fake.channel_messages(conversation)[index:], what="post")[0]

    def click(self, post: SlackMessage, text: str, user: str, key: str) -> None:
        [button] = [b for b in _buttons(post.blocks) if b["text"]["text"] == text]
        answer = self.bot.local.click(button, user=user, channel=post.channel, key=key)
        assert answer.status_code == 200

    def told(self, user: str) -> list[str]:
        return [m.text for m in self.fake.channel_messages(FakeSlack.dm_of(user))]

    def outcomes(self) -> list[str]:
        """Oldest first."""
        return [outcome for action, outcome in reversed(self.bot.audit()) if action == "approval"]

    def poll(self) -> None:
        slack = SingleSlack(WebClient(token="xoxb-test", base_url=self.bot.slack.api_url))
        poller = Poller(
            self.bot.store,
            SingleAccount(self.bot.account),
            slack,
            self.clock,
            owner="poller-test",
            sweeps=[self.approvals.expire_due],
        )
        for _ in range(200):
            wait = poller.run_once()
            if self.bot.store.in_flight_count() == 0:
                return
            self.clock.advance(max(wait, 0.5))
        raise AssertionError("still in flight")


def _buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]


def _shown(message: SlackMessage) -> str:
    return text_of({"text": message.text, "blocks": message.blocks})


@contextmanager
def world_over(tmp_path: Path, channel: str | None) -> Iterator[World]:
    clock = FakeClock()
    with (
        SandboxServer(activity_seconds=20.0, rate_per_second=1000.0, clock=clock) as sandbox,
        FakeSlackServer() as slack,
    ):
        store = Store(f"sqlite:///{tmp_path}/cctag.db", clock=clock)
        store.upgrade()
        fake = slack.fake
        for user in [f"U{n:03d}" for n in range(60)]:  # more than one users.list page
            fake.add_user(user)
        fake.add_user("UADMIN", is_admin=True)
        fake.add_user("UOWNER", is_owner=True)
        fake.add_user("UPLAIN")
        fake.add_user("UOTHER")
        fake.add_user("UBOTADMIN", is_admin=True, is_bot=True)
        fake.add_user("UGONE", is_admin=True, deleted=True)
        fake.add_user("UZLAST", is_admin=True)  # on the last page
        api = CCApi(sandbox.base_url, SpacingLimiter(1000.0), max_retries=1)
        account = api.for_account(StaticTokens(sandbox.access_token))
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        slack_clients = SingleSlack(client)
        permissions = Permissions(
            ConnectionRepository(store.engine, clock), slack_clients, Policy(), store, clock
        )
        rules = ApprovalRules(channel=channel, over=OVER, hours=24.0)
        approvals = Approvals(store, SlackApprovalPosts(slack_clients), permissions, rules, clock)
        home = HomeData(
            connection_info=lambda ws: None,
            calls_today=lambda: 0,
            daily_quota=10_000,
            recent_activities=store.recent_activities,
            approvals=approvals.waiting,
        )
        settings = Settings(slack_signing_secret=SECRET, database_url=store.database_url)
        app = create_app(
            settings,
            store,
            SingleAccount(account),
            client,
            clock,
            permissions=permissions,
            approvals=approvals,
            home=home,
        )
        with ThreadedServer(create_web_app(app, store)) as web:
            local = LocalSlack(f"{web.url}/slack/events", SECRET, slack.response_url)
            yield World(Bot(sandbox, slack, store, account, web, local), clock, approvals)
        api.close()
        store.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with world_over(tmp_path, APPROVERS) as served:
        yield served


@pytest.fixture
def by_dm(tmp_path: Path) -> Iterator[World]:
    with world_over(tmp_path, None) as served:
        yield served


def _tags(world: World) -> set[str]:
    return {tag.name for tag in world.bot.account.list_tags()}


# ------------------------------------------------------------------ done when


def test_a_delete_waits_the_requester_cannot_approve_an_admin_runs_it_a_deny_starts_nothing(
    world: World,
) -> None:
    asked = world.ask('delete "Volunteer"', "d1")
    assert "*Volunteer*: 16 contacts" in asked  # the preview, as the approver sees it
    assert "This needs an approver" in asked and f"approvers' channel <#{APPROVERS}>" in asked
    post = world.request_post()
    assert [b["text"]["text"] for b in _buttons(post.blocks)] == ["Approve", "Deny"]
    assert "<@UPLAIN> asks for an approval" in _shown(post)
    assert "Volunteer*: 16 contacts" in _shown(post)
    assert world.fake.channel_messages(ASKED_IN) == [] and world.bot.activities() == 0

    world.click(post, "Approve", "UPLAIN", "own")  # the requester's own click
    assert "You asked for this" in text_of(world.bot.wait_response("own"))
    assert _buttons(world.fake.message(APPROVERS, post.ts).blocks)  # still waiting
    assert world.bot.activities() == 0 and "Volunteer" in _tags(world)

    world.click(post, "Approve", "UADMIN", "admin")
    assert "Started" in text_of(world.bot.wait_response("admin"))
    [parent] = wait_for(lambda: world.fake.channel_messages(ASKED_IN), what="the parent")
    assert "<@UPLAIN> asked to delete tags “Volunteer”, approved by <@UADMIN> at " in parent.text
    world.poll()
    ends = [
        m
        for m in world.fake.thread(ASKED_IN, parent.ts)
        if (m.metadata or {}).get("event_payload", {}).get("state") == "completed"
    ]
    assert len(ends) == 1 and len(world.fake.channel_messages(ASKED_IN)) == 1
    assert "Volunteer" not in _tags(world)
    decided = world.fake.message(APPROVERS, post.ts)
    assert _buttons(decided.blocks) == []
    assert "Approved* by <@UADMIN> at " in _shown(decided) and " UTC" in _shown(decided)
    assert any("Approved* by <@UADMIN>" in text for text in world.told("UPLAIN"))

    world.ask('delete "Board Member"', "d2")
    second = world.request_post(index=1)
    world.click(second, "Deny", "UADMIN", "deny")
    [opened] = wait_for(lambda: world.fake.calls_to("views.open"), what="the deny modal")
    view = world.fake.views[max(world.fake.views)]
    assert opened.args and view["callback_id"] == "deny_view"
    world.bot.local.submit(view, {"reason": "Board members stay  until the AGM"}, user="UADMIN")
    wait_for(lambda: "Denied" in text_of(world.fake.views[view["id"]]), what="denied")
    denied = _shown(world.fake.message(APPROVERS, second.ts))
    assert "Denied* by <@UADMIN>" in denied and "“Board members stay until the AGM”" in denied
    assert any("Board members stay until the AGM" in text for text in world.told("UPLAIN"))
    assert "Board Member" in _tags(world) and world.bot.activities() == 1
    assert len(world.fake.channel_messages(ASKED_IN)) == 1
    assert world.outcomes()[:2] == ["requested (1 posted)", "refused: the requester cannot approve"]
    assert "approved" in world.outcomes() and "denied: Board members stay until the AGM" in (
        world.outcomes()
    )


# ------------------------------------------------------------------ who may decide


def test_a_click_by_someone_without_the_right_is_refused(world: World) -> None:
    world.ask("delete Volunteer", "d1")
    post = world.request_post()
    world.click(post, "Approve", "UOTHER", "other")
    assert "Only someone with the right" in text_of(world.bot.wait_response("other"))
    assert _buttons(world.fake.message(APPROVERS, post.ts).blocks)
    assert world.bot.activities() == 0 and "refused: not an approver" in world.outcomes()


def test_an_admin_is_not_asked_to_wait(world: World) -> None:
    asked = world.ask("delete Volunteer", "d1", user="UADMIN")
    assert "needs an approver" not in asked and "Confirm" in asked
    assert world.fake.channel_messages(APPROVERS) == []


def test_a_change_over_the_limit_waits_for_an_approver_and_a_small_one_does_not(
    world: World,
) -> None:
    big = world.ask("add VIP --tags Volunteer", "big")  # 16 contacts > OVER
    assert "This needs an approver" in big and world.bot.activities() == 0
    small = world.ask("add VIP --contacts contact1@example.com", "small")
    assert "Started" in small and "needs an approver" not in small
    assert len(world.fake.channel_messages(APPROVERS)) == 1
    everyone = world.ask("add VIP --all-active", "all")  # restricted, whatever its size
    assert "This needs an approver" in everyone and world.bot.activities() == 1


# ------------------------------------------------------------------ once, in time, as previewed


def test_clicks_at_once_make_one_decision(world: World) -> None:
    world.ask("delete Volunteer", "d1")
    post = world.request_post()
    clicks = [
        threading.Thread(target=world.click, args=(post, "Approve", user, f"k{n}"))
        for n, user in enumerate(["UADMIN", "UADMIN", "UOWNER", "UADMIN"])
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    answers = [text_of(world.bot.wait_response(f"k{n}")) for n in range(4)]
    assert sum("Started" in answer for answer in answers) == 1
    assert sum("decided" in answer for answer in answers) == 3
    wait_for(lambda: world.fake.channel_messages(ASKED_IN), what="the parent")
    assert world.bot.activities() == 1 and len(world.fake.channel_messages(ASKED_IN)) == 1
    wait_for(lambda: "started" in world.outcomes(), what="the run audited")
    assert world.outcomes().count("approved") == 1 and world.outcomes().count("started") == 1


def test_a_request_expires_on_the_clock(world: World) -> None:
    world.ask("delete Volunteer", "d1")
    post = world.request_post()
    [approve, _] = _buttons(post.blocks)  # as a client that still shows the old message
    world.clock.advance(timedelta(hours=23, minutes=59).total_seconds())
    world.poll()
    assert _buttons(world.fake.message(APPROVERS, post.ts).blocks)  # not yet
    world.clock.advance(120)
    world.poll()
    expired = world.fake.message(APPROVERS, post.ts)
    assert _buttons(expired.blocks) == [] and "Expired* at" in _shown(expired)
    assert any("Expired" in text for text in world.told("UPLAIN"))
    world.bot.local.click(approve, user="UADMIN", channel=APPROVERS, key="late")
    assert "decided already" in text_of(world.bot.wait_response("late"))
    assert world.bot.activities() == 0 and "Volunteer" in _tags(world)
    assert world.outcomes().count("expired") == 1


def test_a_plan_that_went_stale_is_said_and_not_run(world: World) -> None:
    world.ask("delete Volunteer", "d1")
    post = world.request_post()
    [volunteer] = [t for t in world.bot.account.list_tags() if t.name == "Volunteer"]
    world.bot.account.rename_tag(volunteer.tag_id, "Helpers")
    world.click(post, "Approve", "UADMIN", "admin")
    answer = text_of(world.bot.wait_response("admin"))
    assert "approved but not run" in answer and "Volunteer" in answer
    stale = _shown(world.fake.message(APPROVERS, post.ts))
    assert "but not run" in stale and _buttons(world.fake.message(APPROVERS, post.ts).blocks) == []
    assert any("but not run" in text for text in world.told("UPLAIN"))
    assert world.bot.activities() == 0 and "Helpers" in _tags(world)
    assert world.fake.channel_messages(ASKED_IN) == []


def test_a_tag_made_again_under_the_same_name_is_stale_too(world: World) -> None:
    world.ask("delete Volunteer", "d1")
    post = world.request_post()
    [volunteer] = [t for t in world.bot.account.list_tags() if t.name == "Volunteer"]
    world.bot.account.rename_tag(volunteer.tag_id, "Old volunteers")
    world.bot.account.create_tag("Volunteer")
    world.click(post, "Approve", "UADMIN", "admin")
    assert "changed since it was asked" in text_of(world.bot.wait_response("admin"))
    assert world.bot.activities() == 0 and {"Volunteer", "Old volunteers"} <= _tags(world)


def test_a_source_tag_renamed_since_is_stale_too(world: World) -> None:
    """The names a plan reads are read again at the click, not from what was cached when
    it was asked: a source tag renamed since makes it stale."""
    world.ask("add VIP --tags Volunteer", "big")  # more contacts than OVER: an approver
    post = world.request_post()
    [volunteer] = [t for t in world.bot.account.list_tags() if t.name == "Volunteer"]
    world.bot.account.rename_tag(volunteer.tag_id, "Helpers")
    world.click(post, "Approve", "UADMIN", "admin")
    answer = text_of(world.bot.wait_response("admin"))
    assert "approved but not run" in answer and "Volunteer" in answer
    assert world.bot.activities() == 0


# ------------------------------------------------------------------ by DM, the home, the audit


def test_without_a_channel_each_admin_gets_a_dm_and_every_copy_is_updated(by_dm: World) -> None:
    world = by_dm
    asked = world.ask("delete Volunteer", "d1")
    admins = ["UADMIN", "UOWNER", "UZLAST"]  # not the bot, not the deleted one
    assert "with " + ", ".join(f"<@{u}>" for u in admins) + " by direct message" in asked
    posts = {u: world.request_post(FakeSlack.dm_of(u)) for u in admins}
    for user in ("UBOTADMIN", "UGONE", "UPLAIN"):
        assert world.fake.channel_messages(FakeSlack.dm_of(user)) in ([], [])
    assert len(world.fake.calls_to("users.list")) >= 2  # paged
    world.click(posts["UZLAST"], "Approve", "UZLAST", "dm")
    assert "Started" in text_of(world.bot.wait_response("dm"))
    for user, post in posts.items():
        shown = world.fake.message(FakeSlack.dm_of(user), post.ts)
        assert _buttons(shown.blocks) == [] and "Approved* by <@UZLAST>" in _shown(shown)


def _home(world: World, user: str) -> dict[str, Any]:
    wait_for(lambda: f"HOME-{user}" in world.fake.views, what="the home")
    return world.fake.views[f"HOME-{user}"]


def test_the_home_shows_an_approver_what_waits_and_a_requester_their_own(world: World) -> None:
    world.ask("delete Volunteer", "d1")
    [request] = ApprovalStore(world.bot.store).pending("T0001")
    world.bot.local.home_opened(user="UADMIN")
    admin_home = text_of(_home(world, "UADMIN"))
    assert "Waiting for your approval" in admin_home and request.id in admin_home
    world.bot.local.home_opened(user="UPLAIN")
    own = text_of(_home(world, "UPLAIN"))
    assert "Your requests waiting" in own and request.id in own
    assert "Waiting for your approval" not in own


def test_approve_and_deny_as_lines(world: World) -> None:
    world.ask("delete Volunteer", "d1")
    [request] = ApprovalStore(world.bot.store).pending("T0001")
    assert "Say why" in text_of(world.bot.command(f"deny {request.id}", "n1", user="UADMIN"))
    answer = text_of(world.bot.command(f"deny {request.id} not now", "n2", user="UADMIN"))
    assert "Denied* by <@UADMIN>" in answer
    again = text_of(world.bot.command(f"approve {request.id}", "n3", user="UOWNER"))
    assert "decided already" in again and world.bot.activities() == 0
    assert (
        "no approval request"
        in text_of(world.bot.command("approve 0badcafe", "n4", user="UADMIN")).lower()
    )


# ------------------------------------------------------------------ other plans wait the same


def test_a_merge_waits_then_runs_its_steps_in_order_once_approved(world: World) -> None:
    asked = world.ask('merge Volunteer, "Board Member" --into Helpers', "m1")
    assert "This needs an approver" in asked and "Helpers" not in _tags(world)
    post = world.request_post()
    world.click(post, "Approve", "UADMIN", "admin")
    assert "Started" in text_of(world.bot.wait_response("admin"))
    wait_for(lambda: world.fake.channel_messages(ASKED_IN), what="the parent")
    world.poll()
    tags = _tags(world)
    assert "Helpers" in tags and not {"Volunteer", "Board Member"} & tags
    [parent] = world.fake.channel_messages(ASKED_IN)
    assert "approved by <@UADMIN>" in parent.text


def test_a_delete_from_the_form_waits_and_runs_as_the_form_asked(world: World) -> None:
    before = len(world.fake.views)
    assert world.bot.local.command("delete", key="open", user="UPLAIN").text == ""
    wait_for(lambda: len(world.fake.views) > before, what="the delete form")
    view = list(world.fake.views.values())[-1]
    tag = world.bot.account.find_tag_by_name("Volunteer")
    assert tag is not None
    world.bot.local.submit(view, {"targets": [(tag.tag_id, tag.name)]}, user="UPLAIN")
    wait_for(lambda: "needs an approver" in text_of(world.fake.views[view["id"]]), what="waits")
    post = world.request_post()
    world.click(post, "Approve", "UOWNER", "owner")
    assert "Started" in text_of(world.bot.wait_response("owner"))
    world.poll()
    assert "Volunteer" not in _tags(world)
