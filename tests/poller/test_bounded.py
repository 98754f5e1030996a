"""Every retry is bounded, and an activity that ended (or was given up) costs nothing more.

A message that is gone or frozen (`message_not_found` after someone deleted it,
`cant_update_message`, `edit_window_closed`) ends that message's edits; it is never retried for
ever with one `GET /v3/activities` a cycle (about 17,000 a day for a quota of 10,000).
"""

from __future__ import annotations

import itertools

import pytest
from slack_sdk import WebClient

from bot.poller import Poller
from bot.poller.core import MAX_RATE_LIMITED, MAX_SLACK_TRIES
from tests.support.poller import ACTIVITY_SECONDS, CHANNEL, World

# Long enough for 120 idle cycles at the 5 s base interval: the defect cost one call a cycle.
IDLE_SECONDS = 600


def idle_while(world: World, poller: Poller) -> int:
    """Cycle ten minutes of the poller's time; answers the Constant Contact calls it made."""
    before = world.sandbox.state.request_count("/v3/")
    until = world.clock.monotonic() + IDLE_SECONDS
    while world.clock.monotonic() < until:
        world.clock.advance(max(poller.run_once(), 0.5))
    return world.sandbox.state.request_count("/v3/") - before


def test_a_parent_deleted_after_its_activity_ended_costs_no_more_cc_calls(world: World) -> None:
    tracked = world.start()
    poller = world.poller()
    while world.replies_by_state(tracked)["processing"] == 0:
        world.clock.advance(max(poller.run_once(), 0.5))
    world.clock.advance(ACTIVITY_SECONDS)  # it ends in Constant Contact; then someone deletes
    WebClient(token="xoxb-test", base_url=world.slack.api_url).chat_delete(
        channel=tracked.channel_id, ts=tracked.parent_ts
    )
    world.run_until_done(poller)

    done = world.store.get_tracked_by_id(tracked.id)
    assert done is not None and done.finished
    assert idle_while(world, poller) == 0


@pytest.mark.parametrize(
    "error", ["message_not_found", "cant_update_message", "edit_window_closed"]
)
def test_a_parent_that_cannot_change_keeps_its_words_and_costs_nothing_after_the_end(
    world: World, error: str
) -> None:
    tracked = world.start()
    world.fake.fail("chat.update", error, times=1000, channel=tracked.channel_id)
    poller = world.poller()
    world.run_until_done(poller)

    done = world.store.get_tracked_by_id(tracked.id)
    assert done is not None and done.finished and not done.gave_up
    assert world.replies_by_state(tracked)["completed"] == 1
    parent_edits = [
        c for c in world.fake.calls_to("chat.update") if c.args.get("ts") == tracked.parent_ts
    ]
    assert len(parent_edits) == 1, "a frozen parent is asked once, never again"
    assert idle_while(world, poller) == 0


def test_a_deleted_progress_reply_is_posted_afresh_and_shows_the_end(world: World) -> None:
    tracked = world.start()
    poller = world.poller()
    poller.run_once()
    progress = next(m for m in world.thread(tracked) if "%" in m.text)
    WebClient(token="xoxb-test", base_url=world.slack.api_url).chat_delete(
        channel=tracked.channel_id, ts=progress.ts
    )
    world.run_until_done(poller)

    fresh = [m for m in world.thread(tracked) if "100%" in m.text]
    assert len(fresh) == 1 and fresh[0].ts != progress.ts
    done = world.store.get_tracked_by_id(tracked.id)
    assert done is not None and done.progress_ts == fresh[0].ts and not done.gave_up


def test_slack_work_failing_every_time_gives_the_thread_up_after_a_stated_bound(
    world: World,
) -> None:
    tracked = world.start()
    world.fake.fail("chat.postMessage", "internal_error", times=1000, channel=tracked.channel_id)
    poller = world.poller()
    for _ in range(500):
        world.clock.advance(max(poller.run_once(), 0.5))
        if world.store.in_flight_count() == 0:
            break

    done = world.store.get_tracked_by_id(tracked.id)
    assert done is not None and done.finished and done.gave_up
    assert done.slack_error == "internal_error"
    tries = [c for c in world.fake.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(tries) == MAX_SLACK_TRIES
    gaps = [b.at - a.at for a, b in itertools.pairwise(tries)]
    assert gaps == sorted(gaps) and gaps[-1] >= 60, "backing off, up to the longest interval"
    assert idle_while(world, poller) == 0


def test_a_thread_answered_429_without_end_is_given_up_after_a_stated_bound(
    world: World,
) -> None:
    tracked = world.start()
    world.fake.rate_limit("chat.postMessage", times=10_000, retry_after=1, channel=CHANNEL)
    poller = world.poller()
    for _ in range(2000):
        world.clock.advance(max(poller.run_once(), 0.5))
        if world.store.in_flight_count() == 0:
            break

    done = world.store.get_tracked_by_id(tracked.id)
    assert done is not None and done.finished and done.slack_error == "ratelimited"
    refused = [c for c in world.fake.limited if c.args.get("thread_ts")]
    assert len(refused) == MAX_RATE_LIMITED
    gaps = [b.at - a.at for a, b in itertools.pairwise(refused)]
    assert min(gaps) >= 1, "each Retry-After waited out"
