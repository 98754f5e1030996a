"""Workspaces over signed HTTP: connecting, not-connected workspaces, permissions, the App Home.

The real bolt app with a ConnectFlow, ConnectedAccounts and Permissions over the sandbox's
OAuth2 server (tests/connect's harness) and FakeSlack (its users and their admin flags).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.devkit.fakeslack.server import FakeSlack, FakeSlackServer
from bot.devkit.local_slack import LocalSlack
from bot.devkit.threaded_server import ThreadedServer
from bot.permissions import Permissions, Policy
from bot.ports import SingleSlack
from bot.settings import Settings
from bot.slack.app import HomeData, create_app
from bot.usecases.ports import NOT_CONNECTED
from bot.web import create_web_app
from tests.support.harness import Harness
from tests.support.slack import SECRET, text_of, wait_for

WS = "T0001"
OTHER = "T0002"  # installed, never connected
ALLOWED = frozenset({"C0001", "C0002"})
QUOTA = 10_000


@dataclass
class World:
    h: Harness
    slack: FakeSlackServer
    permissions: Permissions
    local: LocalSlack  # team T0001, connected by UADMIN
    other: LocalSlack  # team T0002, not connected

    @property
    def fake(self) -> FakeSlack:
        return self.slack.fake

    def command(
        self, text: str, key: str, *, user: str = "UPLAIN", channel: str = "C0001", team: str = WS
    ) -> dict[str, Any]:
        local = self.local if team == WS else self.other
        answer = local.command(text, key=key, user=user, channel=channel)
        assert answer.status_code == 200, answer.text
        found = wait_for(
            lambda: [p for k, p in self.fake.responses if k == key], what=f"answer to {key}"
        )
        return found[0]

    def requests(self) -> int:
        return self.h.sandbox.state.request_count()

    def audit(self, team: str = WS) -> list[tuple[str, str, str, str]]:
        return [
            (e.user_id, e.action, e.outcome, e.detail)
            for e in self.h.store.audit_log(team, limit=200)
        ]

    def refusals(self, team: str = WS) -> list[tuple[str, str, str]]:
        return [(u, a, d) for u, a, o, d in self.audit(team) if o == "refused"]


@pytest.fixture
def world(h: Harness) -> Iterator[World]:
    slack = FakeSlackServer()
    with slack:
        slack.fake.add_user("UADMIN", is_admin=True)
        slack.fake.add_user("UPLAIN")
        client = WebClient(token="xoxb-test", base_url=slack.api_url)
        permissions = Permissions(
            h.connections,
            SingleSlack(client),
            Policy(allowed_channels=ALLOWED),
            h.store,
            h.clock,
        )
        home = HomeData(
            connection_info=h.flow.connection_info,
            calls_today=lambda: 2_500,
            daily_quota=QUOTA,
            recent_activities=h.store.recent_activities,
        )
        settings = Settings(slack_signing_secret=SECRET, database_url=h.store.database_url)
        app = create_app(
            settings,
            h.store,
            h.accounts,
            client,
            h.clock,
            permissions=permissions,
            connect=h.flow,
            home=home,
        )
        h.connect(WS, "UADMIN")
        with ThreadedServer(create_web_app(app, h.store)) as web:
            url = f"{web.url}/slack/events"
            yield World(
                h,
                slack,
                permissions,
                LocalSlack(url, SECRET, slack.response_url),
                LocalSlack(url, SECRET, slack.response_url, team=OTHER),
            )


def _opened(world: World, index: int) -> dict[str, Any]:
    calls = wait_for(lambda: world.fake.calls_to("views.open")[index:], what="views.open")
    view = calls[0].args["view"]
    return json.loads(view) if isinstance(view, str) else dict(view)


def _buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in payload.get("blocks", [])
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


# ------------------------------------------------------------------ connect, disconnect


def test_connect_answers_the_link_as_a_url_button_and_it_connects(world: World) -> None:
    reply = world.command("connect", "c1", user="UADMIN", team=OTHER)

    assert reply["response_type"] == "ephemeral"
    [button] = _buttons(reply)
    assert button["url"].startswith(world.h.sandbox.auth_url)
    assert ("UADMIN", "connect_started", "link issued", "") in world.audit(OTHER)
    # The link is a real one: following it connects the workspace.
    assert world.h.callback(world.h.authorize(button["url"])).status_code == 200
    assert world.h.flow.connection_info(OTHER) is not None


def test_a_workspace_connects_then_creates_while_forged_and_replayed_callbacks_fail(
    world: World,
) -> None:
    """The issue's check: an unconnected workspace is told to connect and touches nothing; after
    /cctag connect and the link, its /cctag create makes the tag; forged and replayed callbacks
    are refused with a page that says so."""
    calls = world.h.sandbox.state.request_count()
    assert "/cctag connect" in text_of(world.command("create Joined", "d1", team=OTHER))
    assert world.h.sandbox.state.request_count() == calls

    [button] = _buttons(world.command("connect", "d2", user="UADMIN", team=OTHER))
    query = world.h.authorize(button["url"])
    forged = world.h.callback({**query, "state": "forged-state"})
    assert forged.status_code == 400 and "link" in forged.text.lower()
    assert world.h.callback(query).status_code == 200
    replayed = world.h.callback(query)
    assert replayed.status_code == 409 and "already" in replayed.text.lower()

    assert "Created the tag *Joined*" in text_of(world.command("create Joined", "d3", team=OTHER))


def test_connect_and_disconnect_are_for_admins(world: World) -> None:
    reply = text_of(world.command("connect", "c2", user="UPLAIN"))
    assert "Only workspace admins and owners may connect" in reply

    refused = text_of(world.command("disconnect", "d1", user="UPLAIN"))
    assert "Only workspace admins and owners may disconnect" in refused
    assert world.h.flow.connection_info(WS) is not None
    assert [a for _, a, _ in world.refusals()] == ["disconnect", "connect"]

    done = text_of(world.command("disconnect", "d2", user="UADMIN"))
    assert "Disconnected" in done
    assert world.h.flow.connection_info(WS) is None
    assert ("UADMIN", "disconnect", "disconnected", "") in world.audit()


def test_help_lists_connect_and_disconnect(world: World) -> None:
    reply = text_of(world.command("help", "h1"))
    assert "/cctag connect" in reply and "/cctag disconnect" in reply


# ------------------------------------------------------------------ not connected


@pytest.mark.parametrize(
    "text",
    ["tags", "create Fresh", "status abc", "add VIP --lists Newsletter", "delete VIP", "add"],
)
def test_a_workspace_not_connected_is_told_and_nothing_reaches_the_api(
    world: World, text: str
) -> None:
    before = world.requests()

    reply = world.command(text, "n1", user="UADMIN", team=OTHER)

    assert NOT_CONNECTED in text_of(reply)
    assert world.requests() == before
    assert not world.fake.calls_to("views.open")


# ------------------------------------------------------------------ permissions


def test_a_plain_user_may_not_delete_tags(world: World) -> None:
    before = world.requests()

    reply = text_of(world.command("delete VIP", "p1"))

    reason = "Only workspace admins and owners may delete tags."
    assert reason in reply and "Nothing was changed" in reply
    assert world.requests() == before  # no plan, no counts
    assert world.refusals() == [("UPLAIN", "delete_tags", "in C0001: " + reason)]
    # Nor through the form.
    assert reason in text_of(world.command("delete", "p2"))
    assert not world.fake.calls_to("views.open")


def test_a_plain_user_may_not_act_on_all_active_contacts(world: World) -> None:
    before = world.requests()

    reply = text_of(world.command("add VIP --all-active", "p3"))

    reason = "Only workspace admins and owners may act on all active contacts."
    assert reason in reply
    assert world.requests() == before
    assert world.refusals() == [("UPLAIN", "all_active", "in C0001: " + reason)]


def test_a_plain_user_may_still_tag_by_list(world: World) -> None:
    reply = text_of(world.command("add VIP --lists Newsletter", "p4"))
    assert "Started" in reply
    assert world.refusals() == []


def test_an_admin_is_asked_to_confirm_and_starts(world: World) -> None:
    reply = world.command("delete Volunteer", "p5", user="UADMIN")
    assert "removes it from every contact" in text_of(reply)
    confirm = next(b for b in _buttons(reply) if b["action_id"] == "confirm_command")

    world.local.click(confirm, user="UADMIN", key="p5-admin")
    wait_for(lambda: world.h.store.recent_activities(WS), what="tracked activity")
    assert world.refusals() == []

    admin = text_of(world.command("add VIP --all-active", "p6", user="UADMIN"))
    assert "Confirm to start" in admin
    confirm = next(
        b
        for b in _buttons(world.command("delete VIP", "p7", user="UADMIN"))
        if b["action_id"] == "confirm_command"
    )
    # The policy changes before the click: the confirmation is checked again.
    world.permissions.set_policy(WS, "UOWNER", admin_users=["UOWNER"])
    world.local.click(confirm, user="UADMIN", key="p7-click")
    wait_for(
        lambda: [
            p for k, p in world.fake.responses if k == "p7-click" and "<@UOWNER>" in text_of(p)
        ],
        what="refused at the click",
    )
    assert len(world.h.store.recent_activities(WS)) == 1
    assert [a for _, a, _ in world.refusals()] == ["delete_tags"]


def test_a_channel_not_allowed_is_refused_for_everyone(world: World) -> None:
    before = world.requests()

    for key, user in (("ch1", "UPLAIN"), ("ch2", "UADMIN")):
        reply = text_of(world.command("tags", key, user=user, channel="C0999"))
        assert "cctag works only in <#C0001>, <#C0002>" in reply

    assert world.requests() == before
    assert [(u, a) for u, a, _ in world.refusals()] == [("UADMIN", "tags"), ("UPLAIN", "tags")]
    # The allowed channel works.
    assert "tag" in text_of(world.command("tags", "ch3", channel="C0002"))


# ------------------------------------------------------------------ the App Home


def test_home_tab_shows_the_connection_and_the_quota(world: World) -> None:
    assert world.local.home_opened(user="UPLAIN").status_code == 200

    home = wait_for(lambda: world.fake.views.get("HOME-UPLAIN"), what="home")
    shown = str(home)
    assert "is connected, by <@UADMIN>" in shown
    assert "2,500 of 10,000 (25%)" in shown
    assert "home_add" in shown and "home_delete" in shown

    world.other.home_opened(user="UADMIN")
    wait_for(lambda: "not connected" in str(world.fake.views.get("HOME-UADMIN")), what="other")
    assert "home_connect" in str(world.fake.views["HOME-UADMIN"])


def test_home_buttons_open_their_forms(world: World) -> None:
    world.local.home_click("home_add", user="UPLAIN")
    form = _opened(world, 0)
    assert form["callback_id"] == "tagging_form"
    assert json.loads(form["private_metadata"])["channel"] == "UPLAIN"  # the app's DM

    world.local.home_click("home_delete", user="UPLAIN")
    assert "may delete tags" in text_of(_opened(world, 1))

    world.local.home_click("home_connect", user="UADMIN")
    link = _opened(world, 2)
    assert any(b.get("url", "").startswith(world.h.sandbox.auth_url) for b in _buttons(link))


def test_home_create_button_creates_a_tag(world: World) -> None:
    world.local.home_click("home_create", user="UPLAIN")
    view = wait_for(
        lambda: next(
            (v for v in world.fake.views.values() if v.get("callback_id") == "create_form"), None
        ),
        what="create form",
    )
    assert view is not None

    refused = world.local.submit(view, {"name": "a<b"}, user="UPLAIN").json()
    assert refused == {
        "response_action": "errors",
        "errors": {"name": "A tag name cannot contain <"},
    }

    answer = world.local.submit(view, {"name": "Fresh 2026", "source": "Fair"}, user="UPLAIN")

    assert answer.json()["response_action"] == "update"
    wait_for(lambda: "Created the tag" in str(world.fake.views[view["id"]]), what="created")
    created = world.h.sandbox.state.account().tag_by_name("Fresh 2026")
    assert created is not None and created.tag_source == "Fair"
