"""Who may delete tags and act on all active contacts, and where; refusals told and audited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from slack_sdk import WebClient

from bot.clock import FakeClock
from bot.devkit.fakeslack.server import FakeSlackServer
from bot.permissions import ALL_ACTIVE, DELETE_TAGS, Permissions, Policy
from bot.ports import SingleSlack
from bot.store import Store
from bot.store.connections import ConnectionRepository

WS = "T0A"


@dataclass
class World:
    slack: FakeSlackServer
    store: Store
    clock: FakeClock

    def permissions(self, defaults: Policy | None = None) -> Permissions:
        client = WebClient(token="xoxb-a", base_url=self.slack.api_url)
        repo = ConnectionRepository(self.store.engine, self.clock)
        policy = defaults or Policy()
        return Permissions(repo, SingleSlack(client), policy, self.store, self.clock)

    def refusals(self) -> list[tuple[str, str, str]]:
        return [
            (e.user_id, e.action, e.detail)
            for e in self.store.audit_log(WS)
            if e.outcome == "refused"
        ]


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    clock = FakeClock()
    store = Store(database_url, clock=clock)
    store.upgrade()
    slack = FakeSlackServer()
    with slack:
        slack.fake.add_user("UADMIN", is_admin=True)
        slack.fake.add_user("UPLAIN")
        yield World(slack, store, clock)
    store.close()


def test_workspace_admins_may_delete_tags_by_default(world: World) -> None:
    permissions = world.permissions()

    assert permissions.check(WS, "UADMIN", "C1", DELETE_TAGS).allowed
    refused = permissions.check(WS, "UPLAIN", "C1", DELETE_TAGS)

    assert not refused.allowed
    assert refused.reason == "Only workspace admins and owners may delete tags."
    assert world.refusals() == [("UPLAIN", DELETE_TAGS, "in C1: " + refused.reason)]


def test_everyday_actions_need_no_role(world: World) -> None:
    assert world.permissions().check(WS, "UPLAIN", "C1", "add_tags").allowed
    assert world.refusals() == []


def test_configured_users_replace_the_admins(world: World) -> None:
    # The fields bot/settings.py is to gain (CCTAG_ADMIN_USERS, ...), as the settings carry them.
    settings = SimpleNamespace(
        cctag_admin_users="UPLAIN, U9", cctag_admin_usergroup="", cctag_allowed_channels=None
    )
    permissions = world.permissions(Policy.from_settings(settings))

    assert permissions.check(WS, "UPLAIN", "C1", ALL_ACTIVE).allowed
    refused = permissions.check(WS, "UADMIN", "C1", ALL_ACTIVE)
    assert not refused.allowed
    assert "<@U9>" in refused.reason and "act on all active contacts" in refused.reason


def test_members_of_the_configured_user_group_may(world: World) -> None:
    world.slack.fake.usergroups["S1"] = ["UPLAIN"]
    permissions = world.permissions(Policy(admin_usergroup="S1"))

    assert permissions.check(WS, "UPLAIN", "C1", DELETE_TAGS).allowed
    assert "<!subteam^S1>" in permissions.check(WS, "UADMIN", "C1", DELETE_TAGS).reason


def test_the_bot_acts_only_in_allowed_channels(world: World) -> None:
    permissions = world.permissions(Policy(allowed_channels=frozenset({"C1", "C2"})))

    assert permissions.check(WS, "UPLAIN", "C1", "add_tags").allowed
    refused = permissions.check(WS, "UADMIN", "C9", "add_tags")
    assert not refused.allowed
    assert refused.reason == "cctag works only in <#C1>, <#C2>; this channel is not one of them."
    assert world.refusals()[0][:2] == ("UADMIN", "add_tags")


def test_a_workspace_policy_overrides_the_defaults_for_that_workspace_only(world: World) -> None:
    permissions = world.permissions(Policy(allowed_channels=frozenset({"C1"})))
    permissions.set_policy(WS, "UADMIN", admin_users=["UPLAIN"], allowed_channels=["C7"])

    assert permissions.check(WS, "UPLAIN", "C7", DELETE_TAGS).allowed
    assert not permissions.check(WS, "UPLAIN", "C1", "add_tags").allowed
    assert permissions.check("T0B", "UPLAIN", "C1", "add_tags").allowed
    assert not permissions.check("T0B", "UPLAIN", "C1", DELETE_TAGS).allowed
    assert ("UADMIN", "set_policy") in [(e.user_id, e.action) for e in world.store.audit_log(WS)]


def test_when_slack_cannot_say_who_asks_the_answer_is_no(world: World) -> None:
    world.slack.fake.fail("users.info", "ratelimited")
    refused = world.permissions().check(WS, "UADMIN", "C1", DELETE_TAGS)
    assert not refused.allowed
    assert "try again" in refused.reason


def test_roles_are_asked_of_slack_once_per_five_minutes(world: World) -> None:
    permissions = world.permissions()
    for _ in range(3):
        permissions.check(WS, "UADMIN", "C1", DELETE_TAGS)
    assert len(world.slack.fake.calls_to("users.info")) == 1
    world.clock.advance(301)
    permissions.check(WS, "UADMIN", "C1", DELETE_TAGS)
    assert len(world.slack.fake.calls_to("users.info")) == 2
