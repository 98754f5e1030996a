"""Requests that start something are never repeated blindly.

A lost answer (the sandbox commits, then holds the answer past the client's timeout) is
reconciled from GET /activities: exactly one activity exists and the client returns it. A 5xx
that did nothing is sent once more and starts exactly one activity.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from bot.cc.client import AccountClient, AmbiguousActivity
from bot.cc.errors import ServerError, StartInDoubt
from bot.cc.models import ActivityState, TaggingRequest, build
from bot.cc.tokens import StaticTokens
from tests.support.cc import TIMEOUT, Rig, Tenant, Traffic, World, tag_id, wait_done

ADD_TAGS = "/v3/activities/contacts_taggings_add"


def vip_for_everyone(tenant: Tenant) -> TaggingRequest:
    vip = tag_id(tenant.account, "VIP")
    return build(TaggingRequest, {"source": {"all_active_contacts": True}, "tag_ids": [vip]})


def test_lost_activity_answer_is_reconciled_without_a_second_activity(
    tenant: Tenant, traffic: Traffic, short_rig: Rig
) -> None:
    rig = short_rig
    tenant.sb.faults.commit_then_delay(0.5, path=ADD_TAGS, method="POST")
    activity = rig.cc.add_tags(vip_for_everyone(tenant))

    assert list(tenant.account.activities) == [activity.activity_id]
    assert traffic.count(ADD_TAGS, "POST") == 1
    assert traffic.count("/v3/activities", "GET") == 1  # the one reconciliation read
    assert rig.backoffs == []
    done = wait_done(rig.cc, activity.activity_id)
    assert done.known_state == ActivityState.COMPLETED
    vip = tag_id(tenant.account, "VIP")
    assert tenant.account.tag_members[vip] >= tenant.account.active


def test_5xx_before_anything_happened_is_sent_once_more(
    tenant: Tenant, traffic: Traffic, rig: Rig
) -> None:
    tenant.sb.faults.fail(path=ADD_TAGS, method="POST", status=500)
    activity = rig.cc.add_tags(vip_for_everyone(tenant))
    assert list(tenant.account.activities) == [activity.activity_id]
    assert traffic.count(ADD_TAGS, "POST") == 2
    assert traffic.count("/v3/activities", "GET") == 1  # looked before sending again


def test_a_second_5xx_is_raised_and_nothing_started(
    tenant: Tenant, traffic: Traffic, rig: Rig
) -> None:
    tenant.sb.faults.fail(path=ADD_TAGS, method="POST", times=2, status=502)
    with pytest.raises(ServerError) as caught:
        rig.cc.add_tags(vip_for_everyone(tenant))
    assert caught.value.status == 502 and caught.value.message == "Bad Gateway"
    assert tenant.account.activities == {}
    assert traffic.count(ADD_TAGS, "POST") == 2  # once more, never a third time


def test_lost_answer_with_another_fresh_activity_is_ambiguous(
    tenant: Tenant, traffic: Traffic, short_rig: Rig
) -> None:
    """Another process started an activity just before: which one is ours? Neither is sent
    again; the caller is told to check."""
    other = httpx.post(
        f"{tenant.sb.base_url}/activities/contacts_tags_delete",
        json={"tag_ids": [tag_id(tenant.account, "Volunteer")]},
        headers={"Authorization": f"Bearer {tenant.token}"},
    )
    assert other.status_code == 201
    rig = short_rig
    tenant.sb.faults.commit_then_delay(0.5, path=ADD_TAGS, method="POST")
    with pytest.raises(AmbiguousActivity) as caught:
        rig.cc.add_tags(vip_for_everyone(tenant))
    assert {a.activity_id for a in caught.value.candidates} == set(tenant.account.activities)
    assert len(tenant.account.activities) == 2
    assert traffic.count(ADD_TAGS, "POST") == 1


def test_activities_this_client_started_are_not_taken_for_the_lost_one(
    tenant: Tenant, traffic: Traffic, short_rig: Rig
) -> None:
    rig = short_rig
    mine = rig.cc.delete_tags([tag_id(tenant.account, "Volunteer")])
    tenant.sb.faults.commit_then_delay(0.5, path=ADD_TAGS, method="POST")
    lost = rig.cc.add_tags(vip_for_everyone(tenant))
    assert lost.activity_id != mine.activity_id
    assert set(tenant.account.activities) == {mine.activity_id, lost.activity_id}
    assert traffic.count(ADD_TAGS, "POST") == 1


def test_lost_delete_of_one_tag_is_reconciled_too(
    tenant: Tenant, traffic: Traffic, short_rig: Rig
) -> None:
    rig = short_rig
    vip = tag_id(tenant.account, "VIP")
    tenant.sb.faults.commit_then_delay(0.5, path=f"/v3/contact_tags/{vip}", method="DELETE")
    activity = rig.cc.delete_tag(vip)
    assert list(tenant.account.activities) == [activity.activity_id]
    assert traffic.count("/v3/contact_tags/", "DELETE") == 1
    assert wait_done(rig.cc, activity.activity_id).known_state == ActivityState.COMPLETED
    assert vip not in tenant.account.tags


def test_5xx_on_delete_of_one_tag_is_sent_once_more(
    tenant: Tenant, traffic: Traffic, rig: Rig
) -> None:
    vip = tag_id(tenant.account, "VIP")
    tenant.sb.faults.fail(path=f"/v3/contact_tags/{vip}", method="DELETE")
    activity = rig.cc.delete_tag(vip)
    assert list(tenant.account.activities) == [activity.activity_id]
    assert traffic.count("/v3/contact_tags/", "DELETE") == 2


def test_lost_create_tag_answer_finds_the_tag_instead_of_creating_it_again(
    tenant: Tenant, traffic: Traffic, short_rig: Rig
) -> None:
    rig = short_rig
    tenant.sb.faults.commit_then_delay(0.5, path="/v3/contact_tags", method="POST")
    tag = rig.cc.create_tag("Late answer")
    assert tenant.account.tags[tag.tag_id].name == "Late answer"
    assert [t.name for t in tenant.account.tags.values()].count("Late answer") == 1
    assert traffic.count("/v3/contact_tags", "POST") == 1


def test_create_tag_5xx_that_did_nothing_is_sent_once_more(rig: Rig, traffic: Traffic) -> None:
    rig.sb.faults.fail(path="/v3/contact_tags", method="POST")
    tag = rig.cc.create_tag("Second try")
    assert tag.name == "Second try"
    assert traffic.count("/v3/contact_tags", "POST") == 2


# ---------------------------------------------------------------- a concurrent request in flight

DELETE_TAGS = "/v3/activities/contacts_tags_delete"


def _race(tenant: Tenant, first: AccountClient, second: AccountClient) -> tuple[str, str | None]:
    """`first` starts an activity whose answer is slow to come back (committed, in flight);
    meanwhile `second` gets a 5xx that started nothing and reconciles. Returns (the first's
    activity id, the id the second claimed, or None when it found the case ambiguous)."""
    tenant.sb.faults.commit_then_delay(0.4, path=DELETE_TAGS, method="POST")
    tenant.sb.faults.fail(path=ADD_TAGS, method="POST")
    answered: list[str] = []
    slow = threading.Thread(
        target=lambda: answered.append(
            first.delete_tags([tag_id(tenant.account, "Volunteer")]).activity_id
        )
    )
    slow.start()
    deadline = time.monotonic() + 5
    while not tenant.account.activities:  # committed, answer still held back
        assert time.monotonic() < deadline, "the slow request never reached the sandbox"
        time.sleep(0.01)
    try:
        claimed: str | None = second.add_tags(vip_for_everyone(tenant)).activity_id
    except AmbiguousActivity:
        claimed = None
    slow.join(timeout=5)
    assert len(answered) == 1
    return answered[0], claimed


def test_in_flight_request_of_the_same_client_makes_a_lone_candidate_ambiguous(
    tenant: Tenant, rig: Rig
) -> None:
    slow_id, claimed = _race(tenant, rig.cc, rig.cc)
    assert claimed is None  # AmbiguousActivity: the lone candidate may be the other's
    assert list(tenant.account.activities) == [slow_id]  # and nothing sent again


def test_in_flight_request_of_another_client_of_the_account_is_never_claimed(
    tenant: Tenant, rig: Rig
) -> None:
    """Two clients of one account in one process, as ConnectedAccounts.client_for makes them
    for two concurrent Slack commands of a workspace: the second must not take the first's
    activity (whose answer is still coming) for its own, which would report an operation that
    never ran as started, and give both callers the same activity."""
    first = rig.api.for_account(StaticTokens(tenant.token))
    second = rig.api.for_account(StaticTokens(tenant.token))
    slow_id, claimed = _race(tenant, first, second)
    assert claimed != slow_id


# ---------------------------------------------------------------- on the client's clock (`world`)

LATE = TIMEOUT * 2  # real seconds the sandbox holds an answer it has already committed
WORLD_ADD = "/activities/contacts_taggings_add"


def world_tagging(world: World) -> TaggingRequest:
    vip = world.account.find_tag_by_name("VIP")
    assert vip is not None
    return build(TaggingRequest, {"source": {"all_active_contacts": True}, "tag_ids": [vip.tag_id]})


def world_activity_ids(world: World) -> list[str]:
    state = world.server.state
    return [a.activity_id for a in state.visible_activities(state.account())]


def test_activities_older_than_the_window_are_not_candidates(world: World) -> None:
    request = world_tagging(world)
    state = world.server.state
    state.start_activity(state.account(), "contacts_taggings_add")
    world.clock.advance(60)
    world.server.faults.commit_then_delay(LATE, path=WORLD_ADD, method="POST")
    found = world.account.add_tags(request)
    assert found.activity_id == world_activity_ids(world)[0]
    assert world.requests(WORLD_ADD, "POST") == 1


def test_two_lost_answers_in_flight_together_are_both_ambiguous(world: World) -> None:
    """Two threads start activities on one account; the first answer is lost while the second
    is still waiting for its own: the one candidate might be either, for both of them."""
    request = world_tagging(world)
    world.server.faults.commit_then_delay(LATE, path=WORLD_ADD, method="POST")
    # the second is held before it is handled: nothing of it is committed when the first
    # reconciles, so the list shows one candidate; only the in-flight record makes it ambiguous
    world.server.faults.delay(LATE, path=WORLD_ADD, method="POST")
    outcomes: dict[str, object] = {}

    def start(name: str) -> None:
        try:
            outcomes[name] = world.account.add_tags(request)
        except Exception as exc:
            outcomes[name] = exc

    first = threading.Thread(target=start, args=("first",))
    first.start()
    while world.requests(WORLD_ADD, "POST") < 1:
        pass
    # a third of the timeout later (real time: it orders two network timeouts), so the first
    # times out and reconciles while the second is surely still waiting
    threading.Event().wait(TIMEOUT / 3)
    second = threading.Thread(target=start, args=("second",))
    second.start()
    first.join()
    second.join()
    assert isinstance(outcomes["first"], AmbiguousActivity)
    # the second times out before its held request is handled: the one activity it sees was
    # contested by the first, so it does not claim it either
    assert isinstance(outcomes["second"], AmbiguousActivity)


def test_a_post_that_arrives_after_the_timeout_is_in_doubt_and_never_sent_twice(
    tenant: Tenant, traffic: Traffic, short_rig: Rig
) -> None:
    """The API holds the request past the client's timeout, then starts it: the look finds
    nothing yet, and the client says so (StartInDoubt) instead of sending it again."""
    rig = short_rig
    tenant.sb.faults.hold_then_commit(0.6, path=ADD_TAGS, method="POST")
    with pytest.raises(StartInDoubt):
        rig.cc.add_tags(vip_for_everyone(tenant))
    assert traffic.count(ADD_TAGS, "POST") == 1
    deadline = time.monotonic() + 5
    while not tenant.account.activities and time.monotonic() < deadline:
        time.sleep(0.05)  # the held request reaches the sandbox on its own time
    assert len(tenant.account.activities) == 1
