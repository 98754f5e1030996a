"""The pipeline at its ports: a recording Conversation, the sandbox's account, a real store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from bot.cc.client import CCApi
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.devkit.sandbox.server import SandboxServer
from bot.ports import SingleAccount
from bot.store import Store
from bot.usecases import Actor, BulkInput, Catalog, Operations, Source, SourceKind, TaggingInput
from bot.usecases.commands import REGISTRY
from bot.usecases.outcomes import Refused
from bot.usecases.ports import NOT_CONNECTED, Decision, Message, Pending
from bot.usecases.requests import OOPS, Pipeline, Request

ACTOR = Actor("T1", "U1")


@dataclass
class Recorded:
    said: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    asked: list[Pending] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)
    parents: dict[str, list[str]] = field(default_factory=dict)

    def say(self, message: Message) -> None:
        self.said.append(message.text)

    def refuse(self, reason: str) -> None:
        self.refused.append(reason)

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        self.asked.append(pending)

    def open_form(self, command: str) -> None:
        self.forms.append(command)

    def post_parent(self, channel: str, message: Message) -> str:
        ref = f"{channel}-{len(self.parents)}"
        self.parents[ref] = [message.text]
        return ref

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        self.parents[ref].append(message.text)


class OnlyChannel:
    """Permits: everything in C1, nothing elsewhere."""

    def check(
        self, workspace_id: str, user_id: str, channel_id: str | None, action: str
    ) -> Decision:
        return Decision(channel_id in (None, "C1"), "not in this channel")


@dataclass
class World:
    pipeline: Pipeline
    store: Store

    def run(self, text: str, channel: str = "C1", once: str | None = None) -> Recorded:
        talk = Recorded()
        self.pipeline.handle(Request(ACTOR, text, channel, once), talk)
        return talk


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path) -> Iterator[World]:
    store = Store(f"sqlite:///{tmp_path}/p.db")
    store.upgrade()
    api = CCApi(sandbox.base_url, SpacingLimiter(rate_per_second=40.0))
    account = api.for_account(StaticTokens(sandbox.access_token))
    ops = Operations(store, Catalog())
    yield World(Pipeline(ops, SingleAccount(account), REGISTRY, permits=OnlyChannel()), store)
    api.close()
    store.close()


def test_a_line_launches_parent_start_track_update(world: World) -> None:
    talk = world.run("add VIP --lists Newsletter", once="k1")
    [(ref, drawn)] = list(talk.parents.items())
    [tracked] = world.store.recent_activities("T1")
    assert drawn[0].endswith("*starting…*") and tracked.activity_id in drawn[1]
    assert tracked.parent_ts == ref and tracked.channel_id == "C1"
    assert talk.said[0].startswith("Started: add tag “VIP”") and talk.refused == []
    again = world.run("add VIP --lists Newsletter", once="k1")  # a retried delivery
    assert again.said == again.refused == [] and len(world.store.recent_activities("T1")) == 1


def test_refusals_are_one_sentence_and_start_nothing(world: World) -> None:
    assert world.run("add VIP --lists Newsletter", channel="C2").refused == ["not in this channel"]
    assert "I do not know `nope`" in world.run("nope").refused[0]
    assert world.run("add VIP --lists a --tags b").refused[0].endswith("See `/cctag help`.")
    assert world.store.recent_activities("T1") == []


def test_broad_requests_wait_for_a_yes_then_plan_again(world: World) -> None:
    talk = world.run("delete Volunteer")
    [pending] = talk.asked
    assert talk.parents == {} and pending.line == "delete Volunteer"
    yes = Recorded()
    world.pipeline.confirmed(Request(ACTOR, "", "C1", "yes-1"), pending, yes)
    world.pipeline.confirmed(Request(ACTOR, "", "C1", "yes-1"), pending, yes)  # double click
    assert len(yes.parents) == 1 and yes.said[0].startswith("Started: delete tags")


def test_a_forms_yes_is_completed_inside_the_claimed_guarded_turn(world: World) -> None:
    """A form's yes (a modal's) comes in at the same entry as a line's: claimed once, its input
    completed by the front end inside the guarded turn (what it must read again), refused there
    in words and audited as a confirmation's; a completed input is planned and launched."""
    typed = TaggingInput("add", ("VIP",), Source(SourceKind.CONTACTS, ("contact1@example.com",)))
    pending = Pending(None, typed, "C1")
    reads: list[BulkInput] = []

    def gone(inp: BulkInput) -> BulkInput:
        reads.append(inp)
        raise Refused("The attached file is no longer in Slack")

    no = Recorded()
    for _ in range(2):  # a double submit
        world.pipeline.confirmed(
            Request(ACTOR, "Add tags", "C1", "form-1"), pending, no, complete=gone
        )
    assert reads == [typed] and no.refused == ["The attached file is no longer in Slack"]
    audited = [(e.action, e.outcome) for e in world.store.audit_log("T1")]
    assert ("confirm", "refused: The attached file is no longer in Slack") in audited

    def with_file(inp: BulkInput) -> BulkInput:
        assert isinstance(inp, TaggingInput)
        emails = (*inp.source.values, "contact2@example.com")
        return replace(inp, source=Source(SourceKind.CONTACTS, emails))

    yes = Recorded()
    world.pipeline.confirmed(
        Request(ACTOR, "Add tags", "C1", "form-2"), pending, yes, complete=with_file
    )
    assert len(yes.parents) == 1 and "“contact2@example.com”" in yes.said[0]


def test_a_bare_bulk_command_opens_its_form_and_no_account_is_refused(world: World) -> None:
    assert world.run("lists").forms == ["lists"]
    unconnected = Pipeline(world.pipeline.ops, SingleAccount(None), REGISTRY)
    talk = Recorded()
    unconnected.handle(Request(ACTOR, "tags", "C1"), talk)
    assert talk.refused == [NOT_CONNECTED]


def test_a_failure_is_logged_without_the_typed_text(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The typed line may hold email addresses: the audit keeps it, the logs do not."""
    typed = TaggingInput("add", ("VIP",), Source(SourceKind.CONTACTS, ("contact1@example.com",)))

    def broken(inp: BulkInput) -> BulkInput:
        raise RuntimeError("a bug")

    talk = Recorded()
    world.pipeline.confirmed(
        Request(ACTOR, "add VIP --contacts contact1@example.com", "C1", "form-3"),
        Pending(None, typed, "C1"),
        talk,
        complete=broken,
    )
    assert talk.refused == [OOPS]
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and "RuntimeError" in caplog.text
    assert "example.com" not in caplog.text
    [entry] = [e for e in world.store.audit_log("T1") if e.outcome.startswith("refused: error")]
    assert "contact1@example.com" in entry.detail
