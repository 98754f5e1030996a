"""A job whose day runs out while its parts start: the parts not sent wait, parked, for 00:00
UTC; the thread says so once; the worker starts them by itself after the reset (a restart in
between loses nothing) and the job ends once, each part started exactly once. On a FakeClock
(the sandbox, the fake Slack, the store and both processes' budgets share it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.cc.budget import next_reset
from bot.cc.client import AccountClient, CCApi
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.fakeslack.server import FakeSlack, FakeSlackServer, SlackMessage
from bot.devkit.sandbox.server import SandboxServer
from bot.poller import Poller
from bot.poller.thread import EVENT_TYPE
from bot.ports import SingleAccount, SingleSlack
from bot.store import Store
from bot.store.jobs import LAUNCHED, PARKED, Job, JobStore
from bot.usecases import Actor, Catalog, Operations
from bot.usecases.commands import REGISTRY
from bot.usecases.grammar import parse_bulk_line, split_command
from bot.usecases.requests import Pipeline, Request
from tests.jobs.test_launch import InSlack
from tests.support.clocks import next_cycle

ACTOR = Actor("T1", "U1")
CONTACTS = 1300
EVENING = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)  # two hours before the day resets
TAGS = [f"Tag {n:02}" for n in range(60)]  # more than one activity holds: 2 runs of tags


@dataclass
class World:
    sandbox: SandboxServer
    slack: FakeSlackServer
    store: Store
    clock: FakeClock

    def budget(self, quota: int = 10_000) -> TokenBucketLimiter:
        """A process's view of the API key's budget, on the world's clock."""
        return TokenBucketLimiter(rate_per_second=1000.0, daily_quota=quota, clock=self.clock)

    def client(self, limiter: TokenBucketLimiter | None = None) -> AccountClient:
        api = CCApi(
            self.sandbox.base_url, limiter or self.budget(), clock=FakeClock(), max_retries=0
        )
        return api.for_account(StaticTokens(self.sandbox.access_token))

    def worker(self, client: AccountClient, owner: str) -> Poller:
        slack = WebClient(token="xoxb-test", base_url=self.slack.api_url)
        return Poller(
            self.store, SingleAccount(client), SingleSlack(slack), self.clock, owner=owner
        )

    def cycles(self, worker: Poller, until: datetime) -> None:
        """The worker's cycles, as its time would pass, up to `until`."""
        while self.clock.now() < until:
            next_cycle(self.store, self.clock, worker.run_once())

    def thread(self, job: Job) -> list[SlackMessage]:
        assert job.parent_ts is not None
        return self.slack.fake.thread(job.channel_id, job.parent_ts)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    clock = FakeClock(EVENING)
    with (
        SandboxServer(
            activity_seconds=10.0, rate_per_second=1000.0, contacts=CONTACTS, clock=clock
        ) as sandbox,
        FakeSlackServer(FakeSlack(clock=clock)) as slack,
    ):
        store = Store(database_url, clock)
        store.upgrade()
        yield World(sandbox, slack, store, clock)
        store.close()


def replies(thread: list[SlackMessage]) -> Counter[str]:
    """The bot's replies in a thread, by the state their metadata names."""
    counted: Counter[str] = Counter()
    for message in thread:
        meta = message.metadata or {}
        if meta.get("event_type") == EVENT_TYPE:
            counted[str((meta.get("event_payload") or {}).get("state"))] += 1
    return counted


def activities_started(world: World) -> int:
    return len(world.sandbox.state.account().activities)


def launch_as_the_day_runs_out(world: World) -> tuple[Job, int]:
    """A job of four parts whose day runs out after the first: the rest parked. Answers the
    job and the sandbox's activities before it."""
    setup = world.client()
    for name in TAGS:
        setup.create_tag(name)
    contacts = [c.email for c in world.sandbox.state.account().contacts.values() if c.is_active]
    line = f"add {', '.join(TAGS)} --contacts {', '.join(contacts[:1000])}"
    command = split_command(line)  # planned once (nothing starts): the index is warm
    Operations(world.store, Catalog()).plan(
        ACTOR, setup, parse_bulk_line(command.name, command.rest)
    )
    before = activities_started(world)

    # The web process's budget: planning takes one call (the tags; the index is warm), the
    # first part the last of the day; the others are refused before they are sent.
    talk = InSlack(WebClient(token="xoxb-test", base_url=world.slack.api_url))
    web = Pipeline(
        Operations(world.store, Catalog()), SingleAccount(world.client(world.budget(2))), REGISTRY
    )
    web.handle(Request(ACTOR, line, "C1", "line"), talk)
    assert talk.refused == []
    [job] = JobStore(world.store).recent("T1")
    assert len(job.parts) == 4 and job.state == LAUNCHED
    assert job.parts[0].activity_id
    midnight = next_reset(world.clock.now())
    assert [part.state for part in job.parts[1:]] == [PARKED] * 3
    assert all(part.not_before == midnight and part.attempts == 0 for part in job.parts[1:])
    assert activities_started(world) == before + 1
    [said] = talk.said
    assert "Part 2, 3, 4 of 4 wait for tomorrow's budget (00:00 UTC" in said
    assert "start by themselves" in said and "did not start" not in said
    [drawn] = talk.parents.values()
    assert "3 waiting for the budget (by 00:00 UTC)" in drawn[-1]
    return job, before


def end_once(world: World, job: Job, before: int) -> None:
    """The job ended once, each part started exactly once after the reset, said once."""
    midnight = next_reset(EVENING)
    ended = JobStore(world.store).get(job.id)
    assert ended is not None and ended.ended_at is not None and ended.end_posted
    assert activities_started(world) == before + 4  # each part started exactly once
    assert all(part.state == "completed" for part in ended.parts)
    assert len({part.activity_id for part in ended.parts}) == 4
    assert all(part.started_at and part.started_at >= midnight for part in ended.parts[1:])
    thread = world.thread(job)
    counted = replies(thread)
    assert counted["job"] == 1
    assert counted[f"waiting:{midnight.date().isoformat()}"] == 1
    [end] = [m for m in thread if (m.metadata or {}).get("event_payload", {}).get("state") == "job"]
    assert "completed: all 4 activities" in end.text
    assert len([m for m in thread if "Waiting" in m.text]) == 1


def worker_before_the_reset(
    world: World, budget: TokenBucketLimiter, job: Job, before: int
) -> None:
    """The worker's cycles until half an hour before the reset: nothing starts, one word."""
    first = world.worker(world.client(budget), "worker-1")
    world.cycles(first, until=EVENING.replace(hour=23, minute=30))
    assert activities_started(world) == before + 1  # nothing starts before the reset
    waiting = [m for m in world.thread(job) if "Waiting" in m.text]
    assert len(waiting) == 1
    assert "Part 2, 3, 4 of 4 start by themselves after 00:00 UTC" in waiting[0].text


def until_quiet(world: World, worker: Poller) -> None:
    for _ in range(200):
        next_cycle(world.store, world.clock, worker.run_once())
        if world.store.in_flight_count() == 0:
            return
    raise AssertionError("activities still in flight")


def test_parts_the_day_refused_wait_for_midnight_and_the_worker_starts_them(
    world: World,
) -> None:
    job, before = launch_as_the_day_runs_out(world)
    # The worker: the key's day is spent for it too (Constant Contact says quota_exceeded).
    budget = world.budget()
    budget.spent_today()
    worker_before_the_reset(world, budget, job, before)
    # The worker restarts: a new process, nothing of the old one kept.
    again = world.worker(world.client(budget), "worker-2")
    world.cycles(again, until=next_reset(EVENING))
    until_quiet(world, again)
    end_once(world, job, before)
    ended = JobStore(world.store).get(job.id)
    assert ended is not None and all(part.attempts == 1 for part in ended.parts)


class Killed(BaseException):
    """A kill -9 stand-in: nothing in the worker may catch it."""


def test_a_worker_killed_after_sending_a_parked_part_loses_nothing(world: World) -> None:
    job, before = launch_as_the_day_runs_out(world)
    budget = world.budget()
    budget.spent_today()
    worker_before_the_reset(world, budget, job, before)
    recorded = JobStore.part_started

    def dies_after_the_post(self: JobStore, *args: Any) -> None:
        raise Killed  # the part's POST was answered; the answer is never recorded

    dying = world.worker(world.client(budget), "worker-2")
    world.clock.advance((next_reset(EVENING) - world.clock.now()).total_seconds())
    JobStore.part_started = dies_after_the_post  # type: ignore[method-assign,assignment]
    try:
        with pytest.raises(Killed):
            dying.run_once()
    finally:
        JobStore.part_started = recorded  # type: ignore[method-assign]
    assert activities_started(world) == before + 2
    stored = JobStore(world.store).get(job.id)
    assert stored is not None and stored.parts[1].state == "starting"

    again = world.worker(world.client(budget), "worker-3")
    until_quiet(world, again)
    end_once(world, job, before)


def test_a_job_waiting_for_the_reset_costs_its_worker_a_cycle_a_minute(world: World) -> None:
    """Following still has calls (only the web's day ran out): the first part ends long before
    the reset, its thread says once that the rest wait, and the worker does not spin."""
    job, before = launch_as_the_day_runs_out(world)
    worker = world.worker(world.client(), "worker-1")
    midnight = next_reset(EVENING)
    cycles = 0
    while world.clock.now() < midnight and cycles < 400:
        next_cycle(world.store, world.clock, worker.run_once())
        cycles += 1
    assert world.clock.now() >= midnight
    assert cycles <= 2 * 60 + 20  # two hours: a cycle a minute once the first part ended
    waiting = [m for m in world.thread(job) if "Waiting" in m.text]
    assert len(waiting) == 1 and "start by themselves after 00:00 UTC" in waiting[0].text
    until_quiet(world, worker)
    end_once(world, job, before)
