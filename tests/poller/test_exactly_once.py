"""Exactly once across crashes (a poller killed at every Slack call) and racing pollers."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from bot.poller import Poller
from tests.support.poller import ACTIVITY_SECONDS, Crash, CrashPlan, World

LEASE = 30.0


def _run_until_crash(world: World, poller: Poller, rounds: int = 100) -> bool:
    """Cycle until the poller 'dies'; False when it finished without reaching its crash."""
    for _ in range(rounds):
        try:
            wait = poller.run_once()
        except Crash:
            return True
        if world.store.in_flight_count() == 0:
            return False
        world.clock.advance(max(wait, 0.5))
    return False


def _assert_each_reply_once(world: World, activity_ids: list[str], workspace: str) -> None:
    for activity_id in activity_ids:
        tracked = world.store.get_tracked(workspace, activity_id)
        assert tracked is not None and tracked.finished
        counts = world.replies_by_state(tracked)
        assert counts["completed"] == 1 and counts["progress"] == 1, counts
        assert max(counts.values()) == 1, counts
        assert len(world.thread(tracked)) == sum(counts.values()), "no reply without metadata"
        parent = world.fake.message(tracked.channel_id, tracked.parent_ts)
        assert "completed" in parent.text


@pytest.mark.parametrize("when", ["before", "after"])
def test_killed_at_any_slack_call_and_restarted_posts_each_reply_once(
    world: World, when: str
) -> None:
    crashes = 0
    for at in range(1, 30):
        workspace = f"T{when}{at}"
        tracked = world.start(workspace)
        if not _run_until_crash(world, world.poller(CrashPlan(at=at, when=when))):
            break
        crashes += 1
        successor = world.poller()
        successor.run_once()  # the dead poller's lease still holds: nothing is touched
        still = world.store.get_tracked(workspace, tracked.activity_id)
        assert still is not None and not still.finished and still.lease_owner is not None
        world.clock.advance(LEASE + 1)
        world.run_until_done(successor)
        _assert_each_reply_once(world, [tracked.activity_id], workspace)
    assert crashes >= 6, "every Slack call of a whole run was a crash point"


def test_crash_between_post_and_record_is_recovered_from_the_thread(world: World) -> None:
    tracked = world.start()
    first = world.poller(CrashPlan(at=1, when="after"))  # dies right after posting progress
    with pytest.raises(Crash):
        first.run_once()
    assert world.replies_by_state(tracked) == Counter(progress=1)
    post = world.store.get_post(tracked.id, "progress")
    assert post is not None and post.pending, "the ts was never recorded"

    world.clock.advance(LEASE + 1)
    second = world.poller()
    second.run_once()
    assert len(world.fake.calls_to("conversations.replies")) == 1
    recovered = world.store.get_post(tracked.id, "progress")
    assert recovered is not None and recovered.posted
    assert recovered.ts == world.thread(tracked)[0].ts
    world.run_until_done(second)
    assert world.replies_by_state(tracked)["progress"] == 1


def test_two_pollers_racing_post_nothing_twice(world: World) -> None:
    workspaces = ["T1", "T2", "T3", "T4"]
    started = {ws: [world.start(ws).activity_id for _ in range(5)] for ws in workspaces}
    pollers = [world.poller(), world.poller()]
    barrier = threading.Barrier(len(pollers))
    failures: list[BaseException] = []

    def cycle(poller: Poller) -> None:
        try:
            barrier.wait(5)
            poller.run_once()
        except BaseException as exc:  # surfaced in the main thread below
            failures.append(exc)

    for _ in range(200):  # 60 replies in one channel take a minute at Slack's pace
        threads = [threading.Thread(target=cycle, args=(p,)) for p in pollers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not failures, failures
        if world.store.in_flight_count() == 0:
            break
        world.clock.advance(1.0)
    assert world.store.in_flight_count() == 0
    for workspace, activity_ids in started.items():
        _assert_each_reply_once(world, activity_ids, workspace)


def test_a_reply_is_posted_with_half_a_lease_left_at_least(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracked = world.start()
    world.clock.advance(ACTIVITY_SECONDS + 1)  # ended: progress and end posted in one poll
    renewals: list[int] = []
    renew = world.store.renew_lease

    def counted(tracked_id: int, owner: str, lease_seconds: float) -> bool:
        renewals.append(tracked_id)
        return renew(tracked_id, owner, lease_seconds)

    monkeypatch.setattr(world.store, "renew_lease", counted)

    def slow_post(event: str, payload: object) -> None:
        if event == "posted":
            world.clock.advance(LEASE / 2 + 1)

    world.fake.listeners.append(slow_post)
    world.poller(lease_seconds=LEASE).run_once()
    assert renewals == [tracked.id], "renewed before the second post only"
    assert world.replies_by_state(tracked) == Counter(progress=1, completed=1)
    done = world.store.get_tracked("T1", tracked.activity_id)
    assert done is not None and done.finished and done.lease_owner is None
