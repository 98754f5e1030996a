"""The poller against the sandbox (FakeClock) and the fake Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

import pytest

from tests.support.poller import REQUESTER, World


def test_completed_activity_is_followed_to_its_end_in_its_thread(world: World) -> None:
    tracked = world.start()
    world.run_until_done(world.poller())

    assert world.replies_by_state(tracked) == Counter(progress=1, processing=1, completed=1)
    thread = world.thread(tracked)
    progress, *_ = thread
    assert "100%" in progress.text and "10 of 10 items" in progress.text and progress.edits >= 1
    end = thread[-1]
    assert "completed" in end.text and f"<@{REQUESTER}>" in end.text
    assert "10 of 10 items" in end.text and " s." in end.text
    parent = world.fake.message(tracked.channel_id, tracked.parent_ts)
    assert "completed" in parent.text and parent.edits == 1
    done = world.store.get_tracked("T1", tracked.activity_id)
    assert done is not None and done.finished and done.state == "completed"
    assert all(m.text for m in thread) and all(m.blocks for m in thread)


@pytest.mark.parametrize(
    ("outcome", "advice"),
    [("failed", "run it again"), ("cancelled", "cancelled"), ("timed_out", "smaller")],
)
def test_a_bad_end_names_the_state_the_errors_and_what_to_do(
    world: World, outcome: str, advice: str
) -> None:
    tracked = world.start(outcome=outcome, errors=["Contact 12 could not be tagged"])
    world.run_until_done(world.poller())

    assert world.replies_by_state(tracked)[outcome] == 1
    end = world.thread(tracked)[-1]
    assert outcome in end.text and "Contact 12 could not be tagged" in end.text
    assert advice in end.text and f"<@{REQUESTER}>" in end.text
    assert outcome in world.fake.message(tracked.channel_id, tracked.parent_ts).text


def test_one_list_call_per_account_per_cycle_covers_all_its_activities(world: World) -> None:
    for workspace in ("T1", "T1", "T1", "T2", "T2"):
        world.start(workspace)
    poller = world.poller()
    before = world.cc_status_calls()
    poller.run_once()
    assert world.sandbox.state.request_count("/v3/activities", "GET") - before == 2
    assert world.sandbox.state.status_calls() == 0, "no GET /activities/{id}: the list had all"
    world.run_until_done(poller)
    assert world.sandbox.state.status_calls() == 0


def test_an_activity_missing_from_the_list_is_read_by_id(world: World) -> None:
    tracked = world.start()
    account = world.sandbox.state.account("account-T1")
    for _ in range(60):  # newer activities push it out of the list's first page
        world.sandbox.state.start_activity(account, "contacts_taggings_add")
    world.poller().run_once()
    assert world.sandbox.state.status_calls() == 1
    assert world.replies_by_state(tracked) == Counter(progress=1)


def test_no_calls_when_nothing_is_in_flight(world: World) -> None:
    poller = world.poller()
    assert poller.run_once() == 5.0
    tracked = world.start()
    world.run_until_done(poller)
    calls = world.cc_status_calls()
    for _ in range(5):
        world.clock.advance(poller.run_once())
    assert world.cc_status_calls() == calls
    assert world.replies_by_state(tracked)["completed"] == 1


def test_interval_is_short_while_processing_and_backs_off_when_nothing_changes(
    world: World,
) -> None:
    world.sandbox.state.activity_seconds = 10_000
    tracked = world.start()
    poller = world.poller(max_interval=60.0)
    intervals = []
    for _ in range(8):
        poller.run_once()
        found = world.store.get_tracked("T1", tracked.activity_id)
        assert found is not None
        intervals.append(found.poll_interval)
        world.clock.advance(found.poll_interval)
    # initialized for 2000 s: unchanged, so each wait is longer than the last, up to the cap
    assert intervals[0] == 5.0
    assert all(b > a for a, b in itertools.pairwise(intervals))
    assert max(intervals) <= 60.0

    world.sandbox.state.activity_seconds = 20
    moving = world.start("T2")
    for _ in range(4):
        world.clock.advance(poller.run_once() or 0.5)
    found = world.store.get_tracked("T2", moving.activity_id)
    assert found is not None and found.state == "processing" and found.poll_interval <= 5.0


def test_outage_keeps_state_and_resumes(world: World) -> None:
    tracked = world.start()
    poller = world.poller()
    poller.run_once()
    world.sandbox.faults.fail(path="/v3/activities", times=4, status=503)
    waits = []
    for _ in range(4):
        world.clock.advance(30)
        poller.run_once()
        found = world.store.get_tracked("T1", tracked.activity_id)
        assert found is not None and not found.finished and found.state == "initialized"
        waits.append(found.poll_interval)
    assert world.replies_by_state(tracked) == Counter(progress=1)
    world.run_until_done(poller)
    assert world.replies_by_state(tracked) == Counter(progress=1, completed=1)


def test_disconnected_account_is_retried_not_lost(world: World) -> None:
    tracked = world.start()
    world.accounts.disconnected.add("T1")
    poller = world.poller()
    poller.run_once()
    assert world.thread(tracked) == []
    world.accounts.disconnected.clear()
    world.clock.advance(60)
    world.run_until_done(poller)
    assert world.replies_by_state(tracked)["completed"] == 1


def test_slack_errors_reschedule_and_post_nothing_twice(world: World) -> None:
    tracked = world.start()
    poller = world.poller()
    world.fake.fail("chat.postMessage", "internal_error", times=2)
    poller.run_once()
    assert world.thread(tracked) == []
    world.clock.advance(5)
    poller.run_once()
    world.run_until_done(poller)
    counts = world.replies_by_state(tracked)
    assert counts["progress"] == 1 and counts["completed"] == 1 and max(counts.values()) == 1


def test_slack_429_is_honoured_by_rescheduling(world: World) -> None:
    tracked = world.start()
    poller = world.poller()
    world.fake.rate_limit("chat.postMessage")
    poller.run_once()
    found = world.store.get_tracked("T1", tracked.activity_id)
    assert found is not None
    assert found.next_poll_at - world.clock.now() == timedelta(seconds=1), "Retry-After: 1"
    world.run_until_done(poller)
    counts = world.replies_by_state(tracked)
    assert counts["progress"] == 1 and counts["completed"] == 1
    assert max(counts.values()) == 1


def test_an_activity_older_than_max_age_is_given_up_once(world: World) -> None:
    world.sandbox.state.activity_seconds = 10 * 3600
    tracked = world.start()
    poller = world.poller(max_age=timedelta(hours=1))
    world.run_until_done(poller, limit=1000)

    counts = world.replies_by_state(tracked)
    assert counts["given_up"] == 1 and "completed" not in counts
    note = world.thread(tracked)[-1]
    assert "stopped following" in note.text and f"/cctag status {tracked.activity_id}" in note.text
    assert "no longer followed" in world.fake.message(tracked.channel_id, tracked.parent_ts).text
    found = world.store.get_tracked("T1", tracked.activity_id)
    assert found is not None and found.gave_up and found.finished
    calls = world.cc_status_calls()
    world.clock.advance(3600)
    poller.run_once()
    assert world.cc_status_calls() == calls
