"""Jobs through the pipeline at its ports: planned into activities within the API's limits,
previewed, launched under one parent, and a job whose parts partly fail to start says which."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from slack_sdk import WebClient

from bot.cc.client import AccountClient, CCApi
from bot.cc.models import Activity
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.fakeslack.server import FakeSlackServer
from bot.devkit.sandbox.server import SandboxServer
from bot.poller import Poller
from bot.ports import SingleAccount, SingleSlack
from bot.store import Store
from bot.store.jobs import LAUNCHED, PLANNED, JobStore
from bot.usecases import Actor, Catalog, Operations
from bot.usecases.commands import REGISTRY
from bot.usecases.grammar import parse_bulk_line, split_command
from bot.usecases.launch import Launcher, launched_message
from bot.usecases.plans import Step
from bot.usecases.ports import Message
from bot.usecases.requests import MAX_CARRIED_LINE, Pipeline, Request, Turn
from tests.usecases.test_requests import Recorded

ACTOR = Actor("T1", "U1")
CONTACTS = 1300


@dataclass
class World:
    sandbox: SandboxServer
    store: Store
    clock: FakeClock
    api: CCApi

    def client(self, quota: int = 10_000) -> AccountClient:
        limiter = TokenBucketLimiter(rate_per_second=1000.0, daily_quota=quota, clock=FakeClock())
        api = CCApi(self.sandbox.base_url, limiter, max_retries=0)
        return api.for_account(StaticTokens(self.sandbox.access_token))

    def pipeline(self, client: AccountClient) -> Pipeline:
        return Pipeline(Operations(self.store, Catalog()), SingleAccount(client), REGISTRY)

    def run(self, line: str, client: AccountClient | None = None) -> Recorded:
        talk = Recorded()
        self.pipeline(client or self.client()).handle(Request(ACTOR, line, "C1"), talk)
        return talk


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    clock = FakeClock()
    with SandboxServer(
        activity_seconds=10.0, rate_per_second=1000.0, contacts=CONTACTS, clock=clock
    ) as sandbox:
        store = Store(database_url)
        store.upgrade()
        api = CCApi(sandbox.base_url, TokenBucketLimiter(rate_per_second=1000.0))
        yield World(sandbox, store, clock, api)
        api.close()
        store.close()


def subscribed_emails(world: World, count: int) -> list[str]:
    contacts = world.sandbox.state.account().contacts.values()
    return [c.email for c in contacts if c.is_active][:count]


def warm_up(world: World, line: str) -> None:
    """Plan `line` once (nothing starts): the contact index is then warm and fresh."""
    command = split_command(line)
    inp = parse_bulk_line(command.name, command.rest)
    Operations(world.store, Catalog()).plan(ACTOR, world.client(), inp)


def test_more_tags_than_one_activity_holds_become_a_job(world: World) -> None:
    client = world.client()
    names = [f"Tag {n:02}" for n in range(60)]
    for name in names:
        client.create_tag(name)
    emails = subscribed_emails(world, 10)
    talk = world.run(f"add {', '.join(names)} --contacts {', '.join(emails)}", client)
    assert talk.refused == [] and talk.asked == []
    [job] = JobStore(world.store).recent("T1")
    assert [len(part.request["tag_ids"]) for part in job.parts] == [50, 10]
    assert all(len(part.request["source"]["contact_ids"]) == 10 for part in job.parts)
    said = talk.said[0]
    assert "*10 contacts* found" in said and "a job of *2 activities*" in said
    assert f"Started job `{job.id}`" in said
    [parent] = talk.parents.values()
    assert job.id in parent[0] and parent[-1].endswith("*processing*")
    tracked = world.store.tracked_of_job(job.id)
    assert [t.job_carrier for t in tracked] == [True, False]
    assert {t.activity_id for t in tracked} == {part.activity_id for part in job.parts}


class InSlack(Recorded):
    """A recording conversation whose parent messages are really in the (fake) channel."""

    def __init__(self, client: WebClient) -> None:
        super().__init__()
        self.client = client

    def post_parent(self, channel: str, message: Message) -> str:
        ref = str(self.client.chat_postMessage(channel=channel, text=message.text)["ts"])
        self.parents[ref] = [message.text]
        return ref

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        self.client.chat_update(channel=channel, ts=ref, text=message.text)
        self.parents[ref].append(message.text)


def test_a_part_that_cannot_start_is_named_and_the_job_ends_saying_so(world: World) -> None:
    """A part refused for another reason than the day's budget is not started, as before
    (the budget's parts wait: tests/jobs/test_budget_wait.py)."""
    line = f"add VIP --contacts {', '.join(subscribed_emails(world, 600))}"
    warm_up(world, line)
    ops = Operations(world.store, Catalog())
    client = world.client()
    command = split_command(line)
    plan = ops.plan(ACTOR, client, parse_bulk_line(command.name, command.rest))

    def start(account: AccountClient, step: Step, summary: str) -> Activity:
        activity = ops.start_step(ACTOR, account, step, summary)
        # Constant Contact throttles the next start (429 throttled; no retries here).
        world.sandbox.faults.throttle(path="/activities/", method="POST")
        return activity

    with FakeSlackServer() as slack:
        slack_client = WebClient(token="xoxb-test", base_url=slack.api_url)
        talk = InSlack(slack_client)
        launched = Launcher(world.store, start, ACTOR, talk).launch(client, plan, "C1")
        [job] = JobStore(world.store).recent("T1")
        assert job.state == LAUNCHED
        assert job.parts[0].activity_id and job.parts[1].state == PLANNED
        said = launched_message(plan, launched).text
        assert "Part 2 of 2 did not start" in said and "busy right now" in said
        assert launched.parked == ()
        [(ref, drawn)] = talk.parents.items()
        assert drawn[-1].endswith("*1 of 2 started*")

        poller = Poller(
            world.store,
            SingleAccount(world.client()),
            SingleSlack(slack_client),
            world.clock,
            owner="p1",
        )
        for _ in range(100):
            wait = poller.run_once()
            if world.store.in_flight_count() == 0:
                break
            world.clock.advance(max(wait, 0.5))
        assert world.store.in_flight_count() == 0
        [_progress, end] = slack.fake.thread("C1", ref)
        assert "1 of 2 activities completed" in end.text and "completed:" not in end.text
        assert "1 not started (part 2): Constant Contact started nothing for them" in end.text
        assert "ended" in slack.fake.message("C1", ref).text
    ended = JobStore(world.store).get(job.id)
    assert ended is not None and ended.end_posted and ended.ended_at is not None


def test_nothing_started_when_no_part_can_start(world: World) -> None:
    line = f"add VIP --contacts {', '.join(subscribed_emails(world, 600))}"
    warm_up(world, line)
    talk = world.run(line, world.client(quota=1))
    assert talk.said == [] and "Nothing was started" in talk.refused[0]
    [job] = JobStore(world.store).recent("T1")
    assert job.ended_at is not None and all(part.state == PLANNED for part in job.parts)
    [parent] = talk.parents.values()
    assert "*Not started*" in parent[-1]
    assert world.store.tracked_of_job(job.id) == []


def test_a_long_broad_line_is_confirmed_through_a_saved_line(world: World) -> None:
    emails = subscribed_emails(world, 1001)
    line = f"add VIP --contacts {', '.join(emails)}"
    assert len(line) > MAX_CARRIED_LINE
    talk = world.run(line)
    [pending] = talk.asked
    assert pending.line is not None and pending.line.startswith("saved ")
    assert len(pending.line) < 100
    yes = Recorded()

    def confirm(turn: Turn) -> None:
        assert pending.line is not None
        turn.confirm_line(pending.line)

    world.pipeline(world.client()).run(Request(ACTOR, "", "C1", "yes"), yes, "confirm", confirm)
    assert yes.refused == [] and yes.said[0].startswith("Started job")
    other = Recorded()
    stranger = Request(Actor("T1", "U2"), "", "C1", "yes-2")
    world.pipeline(world.client()).run(
        stranger, other, "confirm", lambda turn: turn.confirm_line(pending.line or "")
    )
    assert other.refused == ["This request is no longer known; type it again"]


def test_the_preview_lists_unknown_emails_up_to_a_screenful(world: World) -> None:
    unknown = [f"someone{n}@nowhere.example" for n in range(400)]
    emails = subscribed_emails(world, 5)
    talk = world.run(f"add VIP --contacts {', '.join(emails + unknown)}")
    said = talk.said[0]
    assert "*5 contacts* found" in said and "*400 emails* not found: someone0@nowhere" in said
    assert " more" in said and len(said) < 3000
    assert "It runs as *one activity*: 1 API call to start" in said


def test_values_neither_email_nor_id_are_refused_before_any_call(world: World) -> None:
    before = world.sandbox.state.request_count()
    talk = world.run("add VIP --contacts a@b.co, not-an-id, 12")
    assert talk.refused == ["“not-an-id”, “12”: neither an email nor a contact id"]
    assert talk.parents == {}
    assert world.sandbox.state.request_count() - before <= 1  # the tags, at most
