"""A request that starts an activity is never sent twice blindly: a lost answer is reconciled
from GET /activities (see AccountClient._reconcile for the rule)."""

from __future__ import annotations

import threading

import pytest

from bot.cc.errors import AmbiguousActivity, NotFound
from bot.cc.models import TaggingRequest, build
from tests.cc.conftest import TIMEOUT, World

ADD_PATH = "/activities/contacts_taggings_add"
LATE = TIMEOUT * 2  # real seconds the sandbox holds an answer it has already committed


def tagging(world: World) -> TaggingRequest:
    vip = world.account.find_tag_by_name("VIP")
    assert vip is not None
    return build(TaggingRequest, {"source": {"all_active_contacts": True}, "tag_ids": [vip.tag_id]})


def activity_ids(world: World) -> list[str]:
    state = world.server.state
    return [a.activity_id for a in state.visible_activities(state.account())]


def test_a_committed_post_whose_answer_is_late_is_found_not_repeated(world: World) -> None:
    request = tagging(world)
    world.server.faults.commit_then_delay(LATE, path=ADD_PATH, method="POST")
    found = world.account.add_tags(request)
    assert activity_ids(world) == [found.activity_id]
    assert world.requests(ADD_PATH, "POST") == 1
    assert world.requests("/v3/activities", "GET") == 1  # the one reconciling list call


def test_a_5xx_that_started_nothing_is_sent_once_more(world: World) -> None:
    request = tagging(world)
    world.server.faults.fail(path=ADD_PATH, method="POST", status=502)
    started = world.account.add_tags(request)
    assert activity_ids(world) == [started.activity_id]
    assert world.requests(ADD_PATH, "POST") == 2


def test_only_one_more_try_after_a_lost_answer(world: World) -> None:
    request = tagging(world)
    world.server.faults.fail(path=ADD_PATH, method="POST", status=503, times=2)
    with pytest.raises(Exception, match="Service Unavailable"):
        world.account.add_tags(request)
    assert world.requests(ADD_PATH, "POST") == 2
    assert activity_ids(world) == []


def test_activities_this_process_started_are_never_taken_for_the_lost_one(world: World) -> None:
    request = tagging(world)
    earlier = world.account.add_tags(request)
    world.server.faults.commit_then_delay(LATE, path=ADD_PATH, method="POST")
    found = world.account.add_tags(request)
    assert found.activity_id != earlier.activity_id
    assert activity_ids(world) == [found.activity_id, earlier.activity_id]


def test_another_writers_activity_in_the_window_makes_it_ambiguous(world: World) -> None:
    request = tagging(world)
    state = world.server.state
    other = state.start_activity(state.account(), "contacts_taggings_add")  # another process
    world.server.faults.commit_then_delay(LATE, path=ADD_PATH, method="POST")
    with pytest.raises(AmbiguousActivity) as caught:
        world.account.add_tags(request)
    candidates = {a.activity_id for a in caught.value.candidates}
    assert other.activity_id in candidates and len(candidates) == 2
    assert world.requests(ADD_PATH, "POST") == 1  # not sent again


def test_activities_older_than_the_window_are_not_candidates(world: World) -> None:
    request = tagging(world)
    state = world.server.state
    state.start_activity(state.account(), "contacts_taggings_add")
    world.clock.advance(60)
    world.server.faults.commit_then_delay(LATE, path=ADD_PATH, method="POST")
    found = world.account.add_tags(request)
    assert found.activity_id == activity_ids(world)[0]
    assert world.requests(ADD_PATH, "POST") == 1


def test_another_request_in_flight_makes_a_single_candidate_ambiguous(world: World) -> None:
    """Two threads start activities on one account; the first answer is lost while the second
    is still waiting for its own: the one candidate might be either."""
    request = tagging(world)
    world.server.faults.commit_then_delay(LATE, path=ADD_PATH, method="POST")
    # the second is held before it is handled: nothing of it is committed when the first
    # reconciles, so the list shows one candidate; only the in-flight record makes it ambiguous
    world.server.faults.delay(LATE, path=ADD_PATH, method="POST")
    outcomes: dict[str, object] = {}

    def start(name: str) -> None:
        try:
            outcomes[name] = world.account.add_tags(request)
        except Exception as exc:
            outcomes[name] = exc

    first = threading.Thread(target=start, args=("first",))
    first.start()
    while world.requests(ADD_PATH, "POST") < 1:
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


def test_a_tag_delete_whose_answer_is_lost_is_reconciled(world: World) -> None:
    tag = world.account.create_tag("Short-lived")
    path = f"/contact_tags/{tag.tag_id}"
    world.server.faults.commit_then_delay(LATE, path=path, method="DELETE")
    activity = world.account.delete_tag(tag.tag_id)
    assert activity_ids(world) == [activity.activity_id]
    assert world.requests(path, "DELETE") == 1
    world.clock.advance(10)
    with pytest.raises(NotFound):
        world.account.get_tag(tag.tag_id)


def test_a_tag_create_whose_answer_is_lost_is_found_by_name(world: World) -> None:
    world.server.faults.commit_then_delay(LATE, path="/contact_tags", method="POST")
    tag = world.account.create_tag("Lost answer")
    assert world.account.get_tag(tag.tag_id).name == "Lost answer"
    assert world.requests("/contact_tags", "POST") == 1
    assert [t.name for t in world.account.list_tags()].count("Lost answer") == 1
