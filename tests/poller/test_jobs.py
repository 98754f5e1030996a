"""A job followed as one: one progress reply for all its activities, its end posted once (in
words that name every state reached), through crashes at any Slack call and with two pollers."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from slack_sdk import WebClient

from bot.cc.models import ActivityKind
from bot.poller.thread import EVENT_TYPE
from bot.store import NewActivity, TrackedActivity
from bot.store.jobs import Job, JobStore, NewJob
from tests.support.poller import CHANNEL, REQUESTER, Crash, CrashPlan, World

LEASE = 30.0
PARTS = 3


def start_job(world: World, workspace: str = "T1", outcomes: tuple[str | None, ...] = ()) -> Job:
    """A job of three tagging activities, stored and tracked as the launch does (the first
    started part carries the thread)."""
    world.accounts.client_for(workspace)
    state = world.sandbox.state
    account = state.account(f"account-{workspace}")
    tag_id = next(iter(account.tags))
    contacts = list(account.contacts)
    runs = [contacts[i::PARTS] for i in range(PARTS)]
    jobs = JobStore(world.store)
    job = jobs.create(
        NewJob(
            workspace_id=workspace,
            channel_id=CHANNEL,
            requester_id=REQUESTER,
            kind=ActivityKind.ADD_TAGS,
            summary="add tag “VIP” to 30 named contacts",
            requests=[{"source": {"contact_ids": run}, "tag_ids": [tag_id]} for run in runs],
        )
    )
    parent = WebClient(token="xoxb-test", base_url=world.slack.api_url).chat_postMessage(
        channel=CHANNEL, text=f"Job {job.id}: starting"
    )
    jobs.set_parent(job.id, CHANNEL, str(parent["ts"]))
    for position, run in enumerate(runs):
        outcome = outcomes[position] if position < len(outcomes) else None
        if outcome:
            world.sandbox.faults.end_next_activity(outcome, [f"part {position + 1} refused"])
        activity = state.start_activity(
            account, ActivityKind.ADD_TAGS, contact_ids=run, tag_ids=[tag_id]
        )
        jobs.part_started(job.id, position, activity.activity_id, activity.state)
        world.store.track_activity(
            NewActivity(
                workspace_id=workspace,
                channel_id=CHANNEL,
                parent_ts=str(parent["ts"]),
                requester_id=REQUESTER,
                kind=ActivityKind.ADD_TAGS,
                summary=f"add tag “VIP” to 30 named contacts (part {position + 1} of {PARTS})",
                activity_id=activity.activity_id,
                job_id=job.id,
                job_carrier=position == 0,
            )
        )
    jobs.launched(job.id)
    found = jobs.get(job.id)
    assert found is not None
    return found


def carrier(world: World, job: Job) -> TrackedActivity:
    [first] = [t for t in world.store.tracked_of_job(job.id) if t.job_carrier]
    return first


def job_replies(world: World, job: Job) -> Counter[str]:
    """Every reply in the job's thread, by the state its metadata names."""
    first = carrier(world, job)
    counted: Counter[str] = Counter()
    for message in world.thread(first):
        meta = message.metadata or {}
        assert meta.get("event_type") == EVENT_TYPE, "every reply is one of ours"
        assert (meta.get("event_payload") or {}).get("activity_id") == first.activity_id
        counted[str(meta["event_payload"]["state"])] += 1
    return counted


def end_text(world: World, job: Job) -> str:
    first = carrier(world, job)
    [end] = [
        m for m in world.thread(first) if (m.metadata or {})["event_payload"]["state"] == "job"
    ]
    return end.text


def test_a_job_has_one_progress_reply_and_one_end(world: World) -> None:
    job = start_job(world)
    world.run_until_done(world.poller())
    assert job_replies(world, job) == Counter(progress=1, job=1)
    text = end_text(world, job)
    assert f"Job {job.id} completed: all 3 activities" in text and f"<@{REQUESTER}>" in text
    parent = world.fake.message(CHANNEL, carrier(world, job).parent_ts)
    assert job.id in parent.text and "completed" in parent.text
    progress = world.fake.thread(CHANNEL, carrier(world, job).parent_ts)[0]
    assert "100%" in progress.text and job.id in progress.text
    ended = JobStore(world.store).get(job.id)
    assert ended is not None and ended.ended_at is not None and ended.end_posted
    assert all(part.state == "completed" for part in ended.parts)


def test_a_job_whose_parts_fail_names_each_state_and_what_to_do(world: World) -> None:
    job = start_job(world, outcomes=(None, "failed", "cancelled"))
    world.run_until_done(world.poller())
    assert job_replies(world, job) == Counter(progress=1, job=1)
    text = end_text(world, job)
    assert "completed:" not in text and "1 of 3 activities completed" in text
    assert "1 failed (" in text and "1 cancelled (" in text
    assert "run that part again" in text
    parent = world.fake.message(CHANNEL, carrier(world, job).parent_ts)
    assert "ended" in parent.text


def test_the_progress_reply_shows_the_parts_together_while_they_run(world: World) -> None:
    job = start_job(world)
    poller = world.poller()
    poller.run_once()
    [progress] = world.thread(carrier(world, job))
    assert "0 of 3 activities done" in progress.text and "of 30 items" in progress.text


@pytest.mark.parametrize("when", ["before", "after"])
def test_killed_at_any_slack_call_the_job_still_ends_once(world: World, when: str) -> None:
    crashes = 0
    for at in range(1, 12):
        job = start_job(world, workspace=f"T{when}{at}")
        poller = world.poller(CrashPlan(at=at, when=when))
        crashed = False
        for _ in range(100):
            try:
                wait = poller.run_once()
            except Crash:
                crashed = True
                break
            if world.store.in_flight_count() == 0:
                break
            world.clock.advance(max(wait, 0.5))
        if not crashed:
            break
        crashes += 1
        world.clock.advance(LEASE + 1)
        world.run_until_done(world.poller())
        assert job_replies(world, job) == Counter(progress=1, job=1), (when, at)
    assert crashes >= 3, "the Slack calls of a whole job run were crash points"


def test_two_pollers_post_a_jobs_end_once(world: World) -> None:
    jobs = [start_job(world, workspace=f"T{n}") for n in range(4)]
    first, second = world.poller(), world.poller()
    for _ in range(200):
        waits = [first.run_once(), second.run_once()]
        if world.store.in_flight_count() == 0:
            break
        world.clock.advance(max(min(waits), 0.5))
    assert world.store.in_flight_count() == 0
    for job in jobs:
        assert job_replies(world, job) == Counter(progress=1, job=1)


def test_a_job_followed_too_long_is_given_up_once_in_the_jobs_words(world: World) -> None:
    job = start_job(world)
    poller = world.poller(max_age=timedelta(seconds=5))
    poller.run_once()
    world.clock.advance(6)  # the activities take 20 s: still processing
    world.run_until_done(poller)
    assert job_replies(world, job) == Counter(progress=1, given_up=1)
    [_, given_up] = world.thread(carrier(world, job))
    assert f"I stopped following job `{job.id}` after" in given_up.text
    assert "no longer followed" in world.fake.message(CHANNEL, carrier(world, job).parent_ts).text
    assert all(t.finished and t.gave_up for t in world.store.tracked_of_job(job.id))
    ended = JobStore(world.store).get(job.id)
    assert ended is not None and ended.ended_at is not None
