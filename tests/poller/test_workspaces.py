"""The poller in multi-workspace mode, and an activity Constant Contact no longer knows.

Workspaces are connected through the real OAuth flow (the sandbox's authorization server, our
callback, tokens in the store) and read through `ConnectedAccounts`, which makes a new client
each time it is asked: one listing per account a cycle must come from the account key.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from slack_sdk import WebClient

from bot.cc.models import ActivityKind
from bot.clock import FakeClock
from bot.devkit.fakeslack.server import FakeSlack, FakeSlackServer
from bot.devkit.sandbox.server import SandboxServer
from bot.poller import Poller
from bot.ports import SingleSlack
from bot.store import NewActivity, TrackedActivity
from tests.support.harness import Harness, harness
from tests.support.poller import World

WORKSPACES = ("T0A", "T0B", "T0C", "T0D")
PER_WORKSPACE = 3
REQUESTER = "U0REQUEST"


@dataclass
class Connected:
    h: Harness
    slack: FakeSlackServer

    @property
    def sandbox(self) -> SandboxServer:
        return self.h.sandbox

    def poller(self) -> Poller:
        slack = SingleSlack(WebClient(token="xoxb-test", base_url=self.slack.api_url))
        return Poller(self.h.store, self.h.accounts, slack, self.h.clock, owner="poller-1")

    def start(self, workspace_id: str) -> TrackedActivity:
        """A tagging activity in the workspace's connected account, tracked as the app does."""
        account = self.sandbox.state.account(f"acct-{workspace_id}")
        activity = self.sandbox.state.start_activity(
            account,
            ActivityKind.ADD_TAGS,
            contact_ids=list(account.contacts)[:5],
            tag_ids=[next(iter(account.tags))],
        )
        channel = f"C{workspace_id}"
        web = WebClient(token="xoxb-test", base_url=self.slack.api_url)
        parent = web.chat_postMessage(channel=channel, text="Adding a tag to 5 contacts")
        return self.h.store.track_activity(
            NewActivity(
                workspace_id=workspace_id,
                channel_id=channel,
                parent_ts=str(parent["ts"]),
                requester_id=REQUESTER,
                kind=ActivityKind.ADD_TAGS,
                summary="Add a tag to 5 contacts",
                activity_id=activity.activity_id,
            )
        )

    def list_calls(self) -> int:
        return self.sandbox.state.request_count("/v3/activities", "GET") - self.by_id_calls()

    def by_id_calls(self) -> int:
        return self.sandbox.state.status_calls()


@pytest.fixture
def connected(database_url: str) -> Iterator[Connected]:
    clock = FakeClock()
    slack = FakeSlackServer(FakeSlack(clock=clock))
    with (
        SandboxServer(activity_seconds=20.0, rate_per_second=1000.0, clock=clock) as sandbox,
        harness(sandbox, database_url, clock) as h,
        slack,
    ):
        for workspace in WORKSPACES:
            sandbox.state.add_account(f"acct-{workspace}", contacts=10)
            h.connect(workspace, REQUESTER, account=f"acct-{workspace}")
        yield Connected(h, slack)


def test_each_connected_account_is_listed_once_a_cycle(connected: Connected) -> None:
    started = [connected.start(ws) for ws in WORKSPACES for _ in range(PER_WORKSPACE)]
    poller = connected.poller()

    lists_before = connected.list_calls()
    poller.run_once()
    assert connected.list_calls() - lists_before == len(WORKSPACES)
    assert connected.by_id_calls() == 0, "each account's listing showed all its activities"

    for _ in range(100):
        if connected.h.store.in_flight_count() == 0:
            break
        lists_before = connected.list_calls()
        wait = poller.run_once()
        assert connected.list_calls() - lists_before <= len(WORKSPACES)
        connected.h.clock.advance(max(wait, 0.5))
    assert connected.h.store.in_flight_count() == 0
    assert connected.by_id_calls() == 0
    for tracked in started:
        thread = connected.slack.fake.thread(tracked.channel_id, tracked.parent_ts)
        payloads = [(m.metadata or {}).get("event_payload") or {} for m in thread]
        ends = [p for p in payloads if p.get("state") == "completed"]
        assert [p["activity_id"] for p in ends] == [tracked.activity_id], "once, in its thread"


class SetOnSecondLook(threading.Event):
    """A stop asked for while the cycle serves its first workspace."""

    def __init__(self) -> None:
        super().__init__()
        self.looks = 0

    def is_set(self) -> bool:
        self.looks += 1
        if self.looks == 2:
            self.set()
        return super().is_set()


def test_a_stop_leases_no_other_workspace_and_the_next_cycle_serves_them(
    connected: Connected,
) -> None:
    for workspace in WORKSPACES:
        connected.start(workspace)
    poller = connected.poller()
    lists_before = connected.list_calls()
    poller.run_once(SetOnSecondLook())
    assert connected.list_calls() - lists_before == 1, "one workspace served, then the stop"
    connected.h.clock.advance(0.5)
    lists_before = connected.list_calls()
    Poller(
        connected.h.store,
        connected.h.accounts,
        SingleSlack(WebClient(token="xoxb-test", base_url=connected.slack.api_url)),
        connected.h.clock,
        owner="poller-2",
    ).run_once()
    assert connected.list_calls() - lists_before == len(WORKSPACES) - 1, "none left leased"


def test_an_activity_constant_contact_no_longer_knows_is_said_to_be_lost(world: World) -> None:
    world.sandbox.state.activity_seconds = 20 * 86_400
    tracked = world.start(summary="Tag <!channel> & friends")
    poller = world.poller(max_age=timedelta(days=30))
    world.clock.advance(5 * 86_400)  # processing, a few percent done
    poller.run_once()
    seen = world.store.get_tracked("T1", tracked.activity_id)
    assert seen is not None and seen.state == "processing" and seen.percent_done

    world.clock.advance(6 * 86_400)  # past the 10 days Constant Contact keeps a status
    poller.run_once()

    counts = world.replies_by_state(tracked)
    assert counts == Counter(progress=1, processing=1, lost=1)
    note = world.thread(tracked)[-1]
    assert "no longer knows it" in note.text and "10 days" in note.text
    assert f"last seen *processing* ({seen.percent_done}%" in note.text
    assert "run the command again" in note.text and "24 hours" not in note.text
    assert "<!channel>" not in str(note.blocks) and "&amp; friends" in str(note.blocks)
    parent = world.fake.message(tracked.channel_id, tracked.parent_ts)
    assert "*lost*" in parent.text and "<!channel>" not in parent.text
    done = world.store.get_tracked("T1", tracked.activity_id)
    assert done is not None and done.finished and done.gave_up
    audited = [e for e in world.store.audit_log("T1") if e.action == "activity_lost"]
    assert len(audited) == 1 and tracked.activity_id in audited[0].detail
    assert "404" in audited[0].outcome and "processing" in audited[0].outcome

    calls = world.cc_status_calls()
    world.clock.advance(3600)
    poller.run_once()
    assert world.cc_status_calls() == calls, "a lost activity is not asked for again"
