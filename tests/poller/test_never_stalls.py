"""A poller that never stalls: one thread's trouble stays with that thread.

Against the strict fake Slack (its clock is the poller's; threads read back once a minute) and
the sandbox: a poisoned activity, 429s with Retry-After, channels that refuse every post.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.web import SlackResponse

from bot.poller import Poller
from tests.support.poller import ACTIVITY_SECONDS, REQUESTER, Crash, CrashPlan, World

POISON = "C0POISON"


class PoisonedWebClient(WebClient):
    """Any call on the poisoned channel blows up inside the client, as a bug would."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        sent = {**(kwargs.get("json") or {}), **(kwargs.get("params") or {})}
        if sent.get("channel") == POISON:
            raise RuntimeError("poisoned")
        return super().api_call(api_method, **kwargs)


class Clients:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def client_for(self, workspace_id: str) -> WebClient:
        return self._client


def as_wired(world: World) -> Clients:
    """A client like the app's (bot/wiring.py): it would sleep Retry-After inside the call."""
    return Clients(
        WebClient(
            token="xoxb-test",
            base_url=world.slack.api_url,
            retry_handlers=[
                RateLimitErrorRetryHandler(max_retry_count=2),
                ConnectionErrorRetryHandler(max_retry_count=2),
            ],
        )
    )


def cycle_until(world: World, pollers: list[Poller], done: Any, limit: int = 200) -> None:
    for _ in range(limit):
        for poller in pollers:
            poller.run_once()
        if done():
            return
        world.clock.advance(1.0)
    raise AssertionError("not done in time")


def finished(world: World, workspace: str, activity_id: str) -> bool:
    tracked = world.store.get_tracked(workspace, activity_id)
    return tracked is not None and tracked.finished


def test_one_poisoned_activity_among_20_holds_back_none_of_the_others(world: World) -> None:
    healthy = [world.start(channel=f"C0OK{number:02d}") for number in range(19)]
    poisoned = world.start(channel=POISON)
    poller = world.poller(
        clients=Clients(PoisonedWebClient(token="xoxb-test", base_url=world.slack.api_url))
    )
    started = world.clock.now()

    cycle_until(world, [poller], lambda: all(finished(world, "T1", t.activity_id) for t in healthy))

    took = (world.clock.now() - started).total_seconds()
    assert took <= ACTIVITY_SECONDS + 2 * 5.0, "the 19 ended on time (two base intervals)"
    for tracked in healthy:
        assert world.replies_by_state(tracked) == Counter(progress=1, processing=1, completed=1)
    still = world.store.get_tracked("T1", poisoned.activity_id)
    assert still is not None and not still.finished
    # Deferred, backing off: held (by no one else's claim) until its next try, no longer.
    assert still.lease_expires_at == still.next_poll_at > world.clock.now()
    assert world.thread(poisoned) == []


def test_an_end_post_answered_429_twice_is_posted_once_by_two_pollers(world: World) -> None:
    tracked = world.start()
    pollers = [world.poller(clients=as_wired(world)), world.poller(clients=as_wired(world))]
    cycle_until(world, pollers, lambda: world.replies_by_state(tracked)["processing"] == 1)
    world.fake.rate_limit("chat.postMessage", times=2, retry_after=20, channel=tracked.channel_id)
    world.clock.advance(ACTIVITY_SECONDS)
    wall = time.monotonic()
    refused_at: list[float] = []

    def done() -> bool:
        posts = [c for c in world.fake.calls_to("chat.postMessage") if c.args.get("thread_ts")]
        refused_at.extend([world.clock.monotonic()] * (len(posts) - len(refused_at)))
        return finished(world, "T1", tracked.activity_id)

    cycle_until(world, pollers, done)

    assert time.monotonic() - wall < 10, "nobody slept Retry-After inside a call"
    assert world.replies_by_state(tracked) == Counter(progress=1, processing=1, completed=1)
    end_posts = refused_at[-3:]  # two refused, then the one that landed
    assert end_posts[1] - end_posts[0] >= 20 and end_posts[2] - end_posts[1] >= 20
    assert world.clock.sleeps == []


def test_a_rate_limited_thread_does_not_hold_back_other_workspaces(world: World) -> None:
    slow = world.start("T1", channel="C0SLOW")
    other = world.start("T2", channel="C0FAST")
    world.fake.rate_limit("chat.postMessage", times=1000, retry_after=20, channel="C0SLOW")
    poller = world.poller(clients=as_wired(world))
    started, wall = world.clock.now(), time.monotonic()
    cycle_until(world, [poller], lambda: finished(world, "T2", other.activity_id))
    assert (world.clock.now() - started).total_seconds() <= ACTIVITY_SECONDS + 10
    assert time.monotonic() - wall < 10, "no cycle waited out the other thread's Retry-After"
    assert not finished(world, "T1", slow.activity_id)
    assert world.thread(slow) == []


def test_a_channel_that_refuses_every_post_costs_no_cc_calls_once_given_up(world: World) -> None:
    tracked = world.start(channel="C0GONE")
    world.fake.fault_channel("C0GONE", "not_in_channel")
    poller = world.poller()
    poller.run_once()

    done = world.store.get_tracked("T1", tracked.activity_id)
    assert done is not None and done.finished and done.gave_up
    assert done.slack_error == "not_in_channel" and done.requester_dm == f"D{REQUESTER[1:]}"
    dm = world.fake.channel_messages(f"D{REQUESTER[1:]}")
    assert len(dm) == 1 and "/invite @cctag" in dm[0].text and tracked.activity_id in dm[0].text
    audit = world.store.audit_log("T1")
    assert [(e.action, e.outcome) for e in audit] == [
        ("thread_given_up", "Slack refused: not_in_channel")
    ]
    calls = world.cc_status_calls()
    for _ in range(30):
        world.clock.advance(poller.run_once() or 1.0)
    assert world.cc_status_calls() == calls


def test_a_revoked_token_gives_up_without_a_dm(world: World) -> None:
    tracked = world.start()
    world.fake.fail("chat.postMessage", "token_revoked")
    world.poller().run_once()
    done = world.store.get_tracked("T1", tracked.activity_id)
    assert done is not None and done.finished and done.slack_error == "token_revoked"
    assert done.requester_dm is None
    assert world.fake.channel_messages(f"D{REQUESTER[1:]}") == []


def test_a_failed_activity_shows_what_was_done_and_long_errors_fit(world: World) -> None:
    errors = [f"<!channel> contact {n} refused: " + "x" * 400 for n in range(30)]
    summary = "Add tags " + ", ".join(f"<!here> tag {n} " + "t" * 240 for n in range(50))
    tracked = world.start(outcome="failed", errors=errors, summary=summary)
    poller = world.poller()
    poller.run_once()
    world.clock.advance(ACTIVITY_SECONDS / 2)
    world.run_until_done(poller)

    progress, *_, end = world.thread(tracked)
    assert "100%" not in progress.text and "of 10 items" in progress.text
    assert "<!" not in end.text and "&lt;!channel&gt;" in end.text
    assert "more" in end.text and "run it again" in end.text
    assert tracked.activity_id in str(end.blocks) and tracked.activity_id in str(progress.blocks)
    parent = world.fake.message(tracked.channel_id, tracked.parent_ts)
    assert "<!here>" not in parent.text and tracked.activity_id in str(parent.blocks)


def test_a_dead_pollers_lease_holds_back_its_own_activities_only(world: World) -> None:
    held = world.start()
    dead = world.poller(CrashPlan(at=1, when="after"))
    with pytest.raises(Crash):
        dead.run_once()
    newer = world.start()  # same workspace, started after the poller died
    successor = world.poller()
    successor.run_once()

    assert world.replies_by_state(newer) == Counter(progress=1)
    still = world.store.get_tracked("T1", held.activity_id)
    assert still is not None and still.lease_owner is not None and not still.finished
    world.clock.advance(30.0 + 1)
    world.run_until_done(successor)
    for tracked in (held, newer):
        counts = world.replies_by_state(tracked)
        assert counts["progress"] == counts["completed"] == 1 and max(counts.values()) == 1


def test_a_restarted_poller_does_not_redo_what_is_recorded(world: World) -> None:
    tracked = world.start()
    first = world.poller()
    cycle_until(world, [first], lambda: world.replies_by_state(tracked)["processing"] == 1)
    posts_before = len(world.fake.calls_to("chat.postMessage"))
    replies_before = len(world.fake.calls_to("conversations.replies"))
    restarted = world.poller()  # a new process: only the store remembers
    world.run_until_done(restarted)
    thread_posts = [
        c for c in world.fake.calls_to("chat.postMessage")[posts_before:] if c.args.get("thread_ts")
    ]
    assert len(thread_posts) == 1, "only the end was still to post"
    assert len(world.fake.calls_to("conversations.replies")) == replies_before == 0


def test_recovery_reads_only_the_replies_newer_than_the_intent(world: World) -> None:
    tracked = world.start()
    human = WebClient(token="xoxb-test", base_url=world.slack.api_url)
    for number in range(40):  # an old, busy thread
        world.clock.advance(1.0)  # people post at Slack's pace too
        human.chat_postMessage(
            channel=tracked.channel_id, thread_ts=tracked.parent_ts, text=f"{number}"
        )
    world.clock.advance(60)
    dead = world.poller(CrashPlan(at=1, when="after"))  # dies right after posting progress
    with pytest.raises(Crash):
        dead.run_once()
    world.clock.advance(31)
    world.run_until_done(world.poller())

    reads = world.fake.calls_to("conversations.replies")
    assert len(reads) == 1 and int(reads[0].args["limit"]) <= 15
    counts = world.replies_by_state(tracked)
    assert counts["progress"] == counts["completed"] == 1 and max(counts.values()) == 1


def test_a_read_back_cut_short_by_the_minute_limit_goes_on_where_it_stopped(
    world: World,
) -> None:
    tracked = world.start()
    dead = world.poller(CrashPlan(at=1, when="before"))  # dies with the progress intent stored
    with pytest.raises(Crash):
        dead.run_once()
    human = WebClient(token="xoxb-test", base_url=world.slack.api_url)
    for number in range(20):  # people talk in the thread meanwhile: two pages to read
        world.clock.advance(1.0)
        human.chat_postMessage(
            channel=tracked.channel_id, thread_ts=tracked.parent_ts, text=f"{number}"
        )
    world.clock.advance(31)
    world.run_until_done(world.poller())

    reads = world.fake.calls_to("conversations.replies")
    oldest = [float(read.args["oldest"]) for read in reads]
    assert len(reads) == 2, "page 1, then page 2 a minute later (never asked early: no 429)"
    assert oldest[0] < oldest[1], "the second read went on from page 2"
    assert (reads[1].at - reads[0].at) >= 60
    assert world.fake.limited == []
    counts = world.replies_by_state(tracked)
    assert counts["progress"] == counts["completed"] == 1 and max(counts.values()) == 1
