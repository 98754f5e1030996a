"""Slack's pace: Retry-After holds for its thread, posts and edits stay within Slack's limits.

The fake Slack enforces Slack's limits by default on the poller's clock (1 post a second per
channel with short bursts, 50 chat.update a minute per workspace, 1 conversations.replies a
minute): a test passes only if the poller never made it answer 429 on its own.
"""

from __future__ import annotations

import itertools
from collections import Counter

from bot.devkit.fakeslack.server import SlackCall
from tests.support.poller import ACTIVITY_SECONDS, World


def run(world: World, poller_count: int = 1, cycles: int = 400) -> None:
    pollers = [world.poller() for _ in range(poller_count)]
    for _ in range(cycles):
        for poller in pollers:
            poller.run_once()
        if world.store.in_flight_count() == 0:
            return
        world.clock.advance(1.0)
    raise AssertionError("activities still in flight")


def thread_posts(world: World, channel: str) -> list[SlackCall]:
    return [
        call
        for call in world.fake.calls_to("chat.postMessage")
        if call.args.get("channel") == channel and call.args.get("thread_ts")
    ]


def test_retry_after_holds_for_its_thread_while_the_workspace_goes_on(world: World) -> None:
    slow = world.start("T1", channel="C0SLOW")
    others = [world.start("T1", channel=f"C0FAST{number}") for number in range(3)]
    world.fake.rate_limit("chat.postMessage", times=3, retry_after=20, channel="C0SLOW")
    started = world.clock.monotonic()
    run(world)

    tries = thread_posts(world, "C0SLOW")
    refused = [call for call in world.fake.limited if call.args.get("channel") == "C0SLOW"]
    assert len(refused) == 3
    first_landed = tries[3]
    gaps = [b.at - a.at for a, b in itertools.pairwise(tries[:4])]
    assert all(gap >= 20 for gap in gaps), gaps
    assert first_landed.at - started >= 60
    for other in others:
        assert world.replies_by_state(other) == Counter(progress=1, processing=1, completed=1)
        assert world.fake.message(other.channel_id, other.parent_ts).edits == 1
    ended = [world.store.get_tracked_by_id(other.id) for other in others]
    assert all(t is not None and t.ended_at is not None for t in ended)
    # The others ended on time although the slow thread was held three times 20 s.
    assert (
        max((t.ended_at - t.created_at).total_seconds() for t in ended if t and t.ended_at)
        <= ACTIVITY_SECONDS + 10
    )
    assert world.replies_by_state(slow) == Counter(progress=1, completed=1)


def test_no_channel_receives_more_posts_than_slacks_pace(world: World) -> None:
    started = [world.start("T1", channel=f"C0BUSY{number % 2}") for number in range(16)]
    run(world, poller_count=1)

    assert world.fake.limited == [], "the poller never made Slack answer 429"
    for tracked in started:
        counts = world.replies_by_state(tracked)
        assert counts["progress"] == counts["completed"] == 1 and max(counts.values()) == 1
        assert "100%" in world.thread(tracked)[0].text
    for channel in ("C0BUSY0", "C0BUSY1"):
        times = [
            call.at
            for call in world.fake.calls_to("chat.postMessage")
            if call.args.get("channel") == channel
        ]
        for index, at in enumerate(times):
            in_ten = [other for other in times[index:] if other - at < 10]
            assert len(in_ten) <= 10 + 4, "1 a second, bursts of a few"


def test_progress_edits_coalesce_within_tier_3_for_a_busy_workspace(world: World) -> None:
    started = [world.start("T1", channel=f"C0MANY{number:02d}") for number in range(30)]
    run(world)

    updates = [call.at for call in world.fake.calls_to("chat.update")]
    assert world.fake.limited == []
    assert all(len([u for u in updates if at <= u < at + 60]) <= 50 for at in updates)
    for tracked in started:
        progress = world.thread(tracked)[0]
        assert "100%" in progress.text, "the last edit shows the end, however many were put off"
        assert world.fake.message(tracked.channel_id, tracked.parent_ts).edits == 1
