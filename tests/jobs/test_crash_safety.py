"""Starting a step is crash-safe: the launcher dies at each kill point (before the POST,
after it before its answer is recorded, after recording before tracking, between steps) and
the next process's poller settles the plan from Constant Contact's activity list on a fake
clock: every step Constant Contact ran is followed once, none is sent twice, the rest start,
and the plan ends once in its thread, within a minute of coming back plus the steps' time.
A POST that reaches Constant Contact after the client's timeout makes one activity."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.cc.client import AccountClient, CCApi
from bot.cc.models import Activity, ActivityKind, TaggingRequest, build
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.fakeslack.server import FakeSlackServer
from bot.devkit.sandbox.server import SandboxServer
from bot.poller import Poller
from bot.poller.thread import EVENT_TYPE
from bot.ports import SingleAccount, SingleSlack
from bot.store import NewActivity, Store, TrackedActivity
from bot.store.jobs import STARTING, JobStore
from bot.usecases import Actor
from bot.usecases.commands.tags import job_status_message
from bot.usecases.jobs import job_progress
from bot.usecases.launch import LAUNCH_LEASE, MAX_ATTEMPTS, Launcher, start_step
from bot.usecases.plans import Plan, Step, independent
from bot.usecases.ports import Message
from bot.usecases.service import JobReport
from tests.jobs.test_launch import InSlack

ACTOR = Actor("T1", "U1")
ACTIVITY_SECONDS = 10.0
ADD_TAGS = "/v3/activities/contacts_taggings_add"


class Killed(BaseException):
    """The process dies here: nothing after it runs (not an Exception: nothing catches it)."""


@dataclass
class World:
    sandbox: SandboxServer
    store: Store
    clock: FakeClock
    slack: FakeSlackServer
    api: CCApi

    def client(self, timeout: float = 10.0) -> AccountClient:
        limiter = TokenBucketLimiter(rate_per_second=1000.0)
        api = CCApi(self.sandbox.base_url, limiter, max_retries=0, timeout=timeout)
        return api.for_account(StaticTokens(self.sandbox.access_token))

    @property
    def web(self) -> WebClient:
        return WebClient(token="xoxb-test", base_url=self.slack.api_url)

    def plan(self, parts: int) -> Plan:
        """`parts` tagging activities of 5 distinct contacts each (VIP)."""
        account = self.sandbox.state.account()
        vip = next(t.tag_id for t in account.tags.values() if t.name == "VIP")
        ids = sorted(c.contact_id for c in account.contacts.values() if c.is_active)
        bodies = [
            {"source": {"contact_ids": ids[5 * n : 5 * n + 5]}, "tag_ids": [vip]}
            for n in range(parts)
        ]
        requests = [build(TaggingRequest, body) for body in bodies]
        return Plan(
            "add_tags",
            f"add tag “VIP” to {5 * parts} contacts",
            independent(ActivityKind.ADD_TAGS, requests),
        )

    def activities(self) -> list[str]:
        return list(self.sandbox.state.account().activities)

    def poll_until_quiet(self, after_restart: float) -> float:
        """The next process's poller, on the fake clock, from `after_restart` seconds after
        the crash; answers the fake seconds until nothing was in flight or unsettled."""
        self.clock.advance(after_restart)
        poller = Poller(
            self.store,
            SingleAccount(self.client()),
            SingleSlack(self.web),
            self.clock,
            owner="next",
        )
        began = self.clock.monotonic()
        jobs = JobStore(self.store)
        for _ in range(300):
            wait = poller.run_once()
            unsettled = [job for job in jobs.recent("T1", 20) if job.ended_at is None]
            if self.store.in_flight_count() == 0 and not unsettled:
                return self.clock.monotonic() - began
            self.clock.advance(max(wait, 1.0))
        raise AssertionError("the plan never settled")


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    clock = FakeClock()
    with (
        SandboxServer(
            activity_seconds=ACTIVITY_SECONDS, rate_per_second=1000.0, contacts=200, clock=clock
        ) as sandbox,
        FakeSlackServer() as slack,
    ):
        store = Store(database_url, clock)
        store.upgrade()
        api = CCApi(sandbox.base_url, TokenBucketLimiter(rate_per_second=1000.0))
        yield World(sandbox, store, clock, slack, api)
        api.close()
        store.close()


Start = Callable[[AccountClient, Step, str], Activity]


def dying(point: str, at_call: int) -> Start:
    """A starter whose process dies at `point` of its `at_call`-th step."""
    calls = {"n": 0}

    def start(client: AccountClient, step: Step, summary: str) -> Activity:
        calls["n"] += 1
        if calls["n"] == at_call and point == "before_post":
            raise Killed
        activity = start_step(client, step)
        if calls["n"] == at_call and point == "after_post":
            raise Killed
        return activity

    return start


def launch_and_die(world: World, plan: Plan, start: Start, talk: InSlack) -> None:
    with pytest.raises(Killed):
        Launcher(world.store, start, ACTOR, talk).launch(world.client(), plan, "C1")


def assert_settled_once(world: World, parts: int, seconds: float) -> None:
    [job] = JobStore(world.store).recent("T1")
    assert len(world.activities()) == parts, "each step ran exactly once"
    assert sorted(p.activity_id or "" for p in job.parts) == sorted(world.activities())
    tracked = world.store.tracked_of_job(job.id)
    assert sorted(t.activity_id for t in tracked) == sorted(world.activities())
    assert sum(t.job_carrier for t in tracked) == 1
    assert job.ended_at is not None and job.end_posted
    assert job.parent_ts is not None
    replies = {
        str(m.metadata["event_payload"]["state"]): m
        for m in world.slack.fake.thread("C1", job.parent_ts)
        if m.metadata and m.metadata.get("event_type") == EVENT_TYPE
    }
    assert len(world.slack.fake.thread("C1", job.parent_ts)) == 2 == len(replies)
    end = replies["job"]
    assert f"Job {job.id} completed: all {parts} activities" in end.text
    # Within a minute of coming back (the launcher's lease, or the in-flight window), plus
    # the steps' own time (here 61 to 71 fake seconds).
    assert seconds <= 60 + parts * ACTIVITY_SECONDS


@pytest.mark.parametrize("at_call", [1, 2])
def test_killed_before_the_post(world: World, at_call: int) -> None:
    talk = InSlack(world.web)
    launch_and_die(world, world.plan(3), dying("before_post", at_call), talk)
    assert len(world.activities()) == at_call - 1
    seconds = world.poll_until_quiet(after_restart=1.0)
    assert_settled_once(world, 3, seconds)


@pytest.mark.parametrize("at_call", [1, 3])
def test_killed_after_the_post_before_its_answer_is_recorded(world: World, at_call: int) -> None:
    talk = InSlack(world.web)
    launch_and_die(world, world.plan(3), dying("after_post", at_call), talk)
    [job] = JobStore(world.store).recent("T1")
    assert job.parts[at_call - 1].state == STARTING  # in doubt: sent, answer not recorded
    status = job_status_message(JobReport(job, job_progress(job.id, job.parts)))
    assert "*unknown*" in status.text and "nothing was sent" not in status.text
    seconds = world.poll_until_quiet(after_restart=1.0)
    assert_settled_once(world, 3, seconds)


def test_killed_after_recording_before_tracking(world: World) -> None:
    talk = InSlack(world.web)
    tracked = {"n": 0}
    track = world.store.track_activity

    def dies_on_second(new: NewActivity) -> TrackedActivity:
        tracked["n"] += 1
        if tracked["n"] == 2:
            raise Killed
        return track(new)

    world.store.track_activity = dies_on_second  # type: ignore[method-assign]
    start: Start = lambda client, step, summary: start_step(client, step)  # noqa: E731
    launch_and_die(world, world.plan(3), start, talk)
    world.store.track_activity = track  # type: ignore[method-assign]
    assert len(world.activities()) == 2
    seconds = world.poll_until_quiet(after_restart=1.0)
    assert_settled_once(world, 3, seconds)


def test_killed_between_steps(world: World) -> None:
    talk = InSlack(world.web)
    jobs = JobStore(world.store)
    starting = JobStore.starting
    marked = {"n": 0}

    def dies_before_third(
        self: JobStore, job_id: str, position: int, *args: Any, **kw: Any
    ) -> bool:
        marked["n"] += 1
        if marked["n"] == 3:
            raise Killed  # the two first steps started and tracked; the third not marked
        return starting(self, job_id, position, *args, **kw)

    start: Start = lambda client, step, summary: start_step(client, step)  # noqa: E731
    JobStore.starting = dies_before_third  # type: ignore[method-assign]
    try:
        launch_and_die(world, world.plan(3), start, talk)
    finally:
        JobStore.starting = starting  # type: ignore[method-assign]
    assert len(world.activities()) == 2
    [job] = jobs.recent("T1")
    assert job.parts[2].activity_id is None
    seconds = world.poll_until_quiet(after_restart=1.0)
    assert_settled_once(world, 3, seconds)


def test_a_post_answered_after_the_timeout_makes_one_activity(world: World) -> None:
    """The sandbox holds the POST past the client's timeout, then starts it: the launcher
    says unknown (never "nothing was sent"), and the settling finds it instead of sending it
    again."""
    talk = InSlack(world.web)
    world.sandbox.faults.hold_then_commit(0.6, path=ADD_TAGS, method="POST")
    plan = world.plan(1)
    starter = lambda client, step, summary: start_step(client, step)  # noqa: E731
    launched = Launcher(world.store, starter, ACTOR, talk).launch(
        world.client(timeout=0.2), plan, "C1"
    )
    assert launched.started == () and launched.in_doubt == (0,)
    [drawn] = talk.parents.values()
    assert "unknown" in drawn[-1] and "Not started" not in drawn[-1]
    wait_until_in_sandbox(world, 1)
    seconds = world.poll_until_quiet(after_restart=0.0)
    assert len(world.activities()) == 1
    [job] = JobStore(world.store).recent("T1")
    assert job.parts[0].activity_id == world.activities()[0]
    assert job.ended_at is not None and job.end_posted
    assert job.parent_ts is not None
    [_, end] = world.slack.fake.thread("C1", job.parent_ts)
    assert f"Job {job.id} completed: its one activity" in end.text
    assert seconds <= 60 + ACTIVITY_SECONDS + 30


def wait_until_in_sandbox(world: World, count: int) -> None:
    import time

    deadline = time.monotonic() + 5
    while len(world.activities()) < count and time.monotonic() < deadline:
        time.sleep(0.05)  # the held request reaches the sandbox on its own (real) time
    assert len(world.activities()) == count


def test_a_step_not_in_the_list_after_the_window_is_sent_once_more(world: World) -> None:
    """Sent, unanswered, and not in Constant Contact's list once nothing can be travelling:
    it did not run, so it is sent again, once."""
    talk = InSlack(world.web)
    launch_and_die(world, world.plan(1), dying("before_post", 1), talk)
    assert world.activities() == []
    world.clock.advance(10)
    assert JobStore(world.store).to_settle(timedelta(seconds=45)) == []  # too soon to look
    seconds = world.poll_until_quiet(after_restart=40.0)
    assert len(world.activities()) == 1
    assert seconds <= 60 + ACTIVITY_SECONDS + 30


def test_a_step_is_sent_at_most_max_attempts_times_then_ends_in_words(world: World) -> None:
    """The bound on sends: each one lost (the launcher died, then Constant Contact failed),
    the step is given up as not started, and the plan ends saying so."""
    world.sandbox.faults.fail(path=ADD_TAGS, method="POST", times=10, status=500)
    launch_and_die(world, world.plan(1), dying("before_post", 1), InSlack(world.web))
    world.poll_until_quiet(after_restart=60.0)
    posts = world.sandbox.state.request_count(ADD_TAGS, "POST")
    # The first send died before its POST; the second is the last (MAX_ATTEMPTS): its POST,
    # then the client's one more after a 500 and an activity list showing nothing.
    assert MAX_ATTEMPTS == 2 and posts == 2
    world.clock.advance(3600)
    world.poll_until_quiet(after_restart=60.0)
    assert world.sandbox.state.request_count(ADD_TAGS, "POST") == posts and world.activities() == []
    [job] = JobStore(world.store).recent("T1")
    assert job.ended_at is not None and job.parent_ts is not None
    [end] = [m.text for m in world.slack.fake.thread("C1", job.parent_ts) if "ended" in m.text]
    assert "1 not started (part 1): Constant Contact started nothing for them" in end
    assert job.end_posted
    parent = world.slack.fake.message("C1", job.parent_ts)
    assert parent is not None and "*ended; see the thread*" in parent.text


def test_a_plan_whose_first_step_never_starts_ends_its_waiting_step_too(world: World) -> None:
    world.sandbox.faults.fail(path=ADD_TAGS, method="POST", times=10, status=500)
    first, second = world.plan(2).steps
    plan = Plan("add_tags", "add tag “VIP” to 10 contacts", (first, replace(second, after=0)))
    launch_and_die(world, plan, dying("before_post", 1), InSlack(world.web))
    world.poll_until_quiet(after_restart=60.0)
    [job] = JobStore(world.store).recent("T1")
    assert job.ended_at is not None and job.parent_ts is not None
    [end] = [m.text for m in world.slack.fake.thread("C1", job.parent_ts)]
    assert "Job" in end and "ended: 0 of 2 activities completed" in end
    assert "1 not started (part 2, after part 1)" in end
    assert "1 not started (part 1): Constant Contact started nothing" in end
    assert world.activities() == []


def test_killed_while_ending_a_plan_with_nothing_started_the_next_process_ends_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sandbox.faults.fail(path=ADD_TAGS, method="POST", times=10, status=500)
    launch_and_die(world, world.plan(1), dying("before_post", 1), InSlack(world.web))
    end, deaths = JobStore.end, [Killed()]

    def dies_once(jobs: JobStore, job_id: str) -> bool:
        if deaths:
            raise deaths.pop()
        return end(jobs, job_id)

    monkeypatch.setattr(JobStore, "end", dies_once)
    with pytest.raises(Killed):
        world.poll_until_quiet(after_restart=60.0)
    [job] = JobStore(world.store).recent("T1")
    assert job.ended_at is None and job.parent_ts is not None
    world.poll_until_quiet(after_restart=LAUNCH_LEASE)
    [job] = JobStore(world.store).recent("T1")
    assert job.ended_at is not None and job.end_posted and job.parent_ts is not None
    ends = [m for m in world.slack.fake.thread("C1", job.parent_ts) if "not started" in m.text]
    assert len(ends) == 1
    assert world.sandbox.state.request_count(ADD_TAGS, "POST") == 2, "sent no more"


def test_a_step_the_list_cannot_tell_apart_ends_the_plan_saying_unknown(world: World) -> None:
    """Killed after its POST while someone else started an activity of the same size: the
    list cannot tell which is ours, so the plan ends once, in its thread, as unknown."""
    launch_and_die(world, world.plan(1), dying("after_post", 1), InSlack(world.web))
    account = world.sandbox.state.account()
    vip = next(t.tag_id for t in account.tags.values() if t.name == "VIP")
    others = sorted(c.contact_id for c in account.contacts.values() if c.is_active)[-5:]
    world.sandbox.state.start_activity(
        account, ActivityKind.ADD_TAGS, contact_ids=others, tag_ids=[vip]
    )
    world.poll_until_quiet(after_restart=60.0)
    assert len(world.activities()) == 2, "nothing sent again"
    [job] = JobStore(world.store).recent("T1")
    assert job.ended_at is not None and job.end_posted and job.parent_ts is not None
    [end] = [m.text for m in world.slack.fake.thread("C1", job.parent_ts)]
    assert "1 unknown (part 1)" in end and "Check the account's recent activities" in end
    assert "not started" not in end


def test_a_launcher_killed_by_sigkill_after_a_post(world: World) -> None:
    """A real process, really killed (SIGKILL) right after the second step's POST: the next
    process follows what ran once and starts what did not."""
    plan = world.plan(3)
    spec = {
        "database_url": world.store.database_url,
        "now": world.clock.now().isoformat(),
        "sandbox_url": world.sandbox.base_url,
        "token": world.sandbox.access_token,
        "slack_url": world.slack.api_url,
        "summary": plan.summary,
        "bodies": [step.body.model_dump(mode="json", exclude_none=True) for step in plan.steps],
        "kill_after_post": 2,
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.jobs.crash_launch", json.dumps(spec)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    assert len(world.activities()) == 2  # the second ran; its answer died with the process
    [job] = JobStore(world.store).recent("T1")
    assert job.parts[1].state == STARTING and job.parts[2].activity_id is None
    seconds = world.poll_until_quiet(after_restart=1.0)
    assert_settled_once(world, 3, seconds)


class DiesPosting(InSlack):
    def post_parent(self, channel: str, message: Message) -> str:
        raise Killed


def test_killed_before_its_parent_message_the_requester_learns_it(world: World) -> None:
    """Nothing was sent (steps start only after the parent): the plan ends and the person
    who confirmed is told so by DM, once."""
    launch_and_die(world, world.plan(2), dying("after_post", 99), DiesPosting(world.web))
    assert world.activities() == []
    world.poll_until_quiet(after_restart=61.0)
    [job] = JobStore(world.store).recent("T1")
    assert job.ended_at is not None and world.activities() == []
    dm = world.slack.fake.dm_of("U1")
    told = [m for m in world.slack.fake.channel_messages(dm) if "nothing was" in m.text]
    assert len(told) == 1 and "Run it again" in told[0].text
    world.poll_until_quiet(after_restart=61.0)
    assert len(world.slack.fake.channel_messages(dm)) == 1
