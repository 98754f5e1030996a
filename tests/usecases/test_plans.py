"""Use cases without Slack: plans resolve, count and refuse before anything starts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.cc.client import AccountClient, CCApi
from bot.cc.models import Activity
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.sandbox.server import SandboxServer
from bot.store import Store
from bot.usecases import (
    EXCLUDE,
    SOURCE,
    TARGETS,
    Action,
    Actor,
    BulkRequest,
    NameCache,
    Plan,
    Planner,
    Refused,
    Source,
    SourceKind,
    start,
)

ACTOR = Actor("T1", "U1", "C1")


class ChannelLog:
    """An Announcer that keeps the parent messages in a list (a channel without Slack)."""

    def __init__(self) -> None:
        self.messages: dict[str, str] = {}

    def starting(self, actor: Actor, plan: Plan) -> str:
        ts = str(len(self.messages) + 1)
        self.messages[ts] = f"{plan.summary}: starting"
        return ts

    def started(self, ts: str, actor: Actor, plan: Plan, activity: Activity) -> None:
        self.messages[ts] = f"{plan.summary}: {activity.state}"

    def failed(self, ts: str, actor: Actor, plan: Plan, reason: str) -> None:
        self.messages[ts] = f"{plan.summary}: could not start: {reason}"


@pytest.fixture
def account(sandbox: SandboxServer) -> Iterator[AccountClient]:
    api = CCApi(sandbox.base_url, TokenBucketLimiter(rate_per_second=1000.0), clock=FakeClock())
    yield api.for_account(StaticTokens(sandbox.access_token))
    api.close()


def planner(account: AccountClient) -> Planner:
    return Planner(account, NameCache(FakeClock()), ACTOR.workspace_id)


def test_every_problem_is_listed_under_its_input(account: AccountClient) -> None:
    request = BulkRequest(
        Action.ADD_TAGS,
        ("VIP", "Nope"),
        Source(SourceKind.LISTS, ("Nowhere",)),
        ("nobody@example.com",),
    )
    with pytest.raises(Refused) as refused:
        planner(account).bulk(request)
    assert refused.value.problems == {
        TARGETS: "Unknown tags: “Nope”",
        SOURCE: "Unknown lists: “Nowhere”",
        EXCLUDE: "Unknown contacts: “nobody@example.com”",
    }


def test_limits_are_refused_before_any_call(account: AccountClient, sandbox: SandboxServer) -> None:
    tags = tuple(f"tag {i}" for i in range(51))
    with pytest.raises(Refused) as refused:
        planner(account).bulk(BulkRequest(Action.ADD_TAGS, tags, Source(SourceKind.ALL_ACTIVE)))
    assert refused.value.problems[TARGETS] == "51 tags is 1 over the limit of 50"
    with pytest.raises(Refused) as refused:
        planner(account).bulk(
            BulkRequest(Action.REMOVE_FROM_LISTS, ("Donors",), Source(SourceKind.SEGMENT, ("1",)))
        )
    assert SOURCE in refused.value.problems
    assert sandbox.state.request_count("/v3/") == 0


def test_plans_count_the_contacts_they_touch(
    account: AccountClient, sandbox: SandboxServer
) -> None:
    state = sandbox.state.account("demo")
    newsletter = next(x for x in state.lists.values() if x.name == "Newsletter")
    plan = planner(account).bulk(
        BulkRequest(Action.ADD_TAGS, ("VIP",), Source(SourceKind.LISTS, ("newsletter",)))
    )
    assert plan.contacts == len(state.list_members[newsletter.list_id])
    assert not plan.needs_confirmation
    broad = planner(account).bulk(
        BulkRequest(
            Action.ADD_TAGS, ("VIP",), Source(SourceKind.ALL_ACTIVE), ("contact1@example.com",)
        )
    )
    assert broad.needs_confirmation and broad.contacts == len(state.active) - 1


def test_start_once_per_key_and_a_failed_start_says_so(
    account: AccountClient, sandbox: SandboxServer, tmp_path: object
) -> None:
    store = Store(f"sqlite:///{tmp_path}/plans.db", FakeClock())
    store.upgrade()
    channel = ChannelLog()
    plan = planner(account).bulk(
        BulkRequest(
            Action.ADD_TAGS, ("VIP",), Source(SourceKind.CONTACTS, ("contact1@example.com",))
        )
    )
    started = start(plan, account, store, ACTOR, channel, "key-1")
    assert started is not None and started.tracked.parent_ts == "1"
    assert start(plan, account, store, ACTOR, channel, "key-1") is None
    sandbox.faults.fail(path="/activities/contacts_taggings_add", status=400)
    with pytest.raises(Refused):
        start(plan, account, store, ACTOR, channel, "key-2")
    assert channel.messages["2"].startswith(f"{plan.summary}: could not start")
    assert sandbox.state.request_count("/activities/contacts_taggings_add", "POST") == 2
    outcomes = [entry.outcome for entry in store.audit_log("T1")]
    assert any(o.startswith("ignored") for o in outcomes)
    assert any(o.startswith("failed to start") for o in outcomes)
    store.close()
