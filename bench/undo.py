"""Bench: a change recorded, then undone, in an account of 50,000 contacts.

    python -m bench.undo [--contacts 50000] [--carriers 1000] [--emails 5000] [--overlap 600]

1,000 contacts carry tag T; T is added to 5,000 emails, 600 of them among the 1,000; then the
change is undone. It prints the calls the record costs with the contact index cold (counts,
then T's members 500 a call) and warm (the index keeps each contact's taggings), the calls the
undo's plan costs (cold and warm) and its activities, and the contacts whose T is wrong after
the undo. Calls are counted at the sandbox (real HTTP on 127.0.0.1); time is not measured, so
the sandbox is not rate-limited and its activities run on a fake clock, followed by the real
poller posting to the fake Slack. Goals: 0 wrong; record at most ceil(1000/500) + 1 calls cold,
0 warm; the undo at most ceil(4400/500) activities. Its last line:
`undo: wrong=… record_calls_cold=… record_calls_warm=… undo_activities=…`.
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
from collections.abc import Callable
from typing import TypeVar

from slack_sdk import WebClient

from bot.cc.client import CCApi
from bot.cc.models import MAX_CONTACT_IDS
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.fakeslack.server import FakeSlackServer
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import DEFAULT_ACCESS_TOKEN, Account
from bot.poller import Poller
from bot.ports import SingleAccount, SingleSlack
from bot.store import Store
from bot.store.contact_index import account_key_of
from bot.usecases.catalog import Catalog
from bot.usecases.inputs import Actor, Source, SourceKind, TaggingInput
from bot.usecases.launch import Launcher
from bot.usecases.ports import Message, Pending
from bot.usecases.service import Operations
from bot.usecases.undo.record import change_recorder, loads, record_change
from bot.usecases.undo.reverse import Undoer, UndoPlan

TAG = "T"
ACTOR = Actor("TBENCH", "UBENCH")
CHANNEL = "CBENCH"
T_ = TypeVar("T_")


class Quiet:
    """The requester's side: the bench reads nothing of it; parents go to the fake Slack."""

    def __init__(self, slack: WebClient) -> None:
        self._slack = slack

    def say(self, message: Message) -> None: ...

    def refuse(self, reason: str) -> None: ...

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None: ...

    def open_form(self, command: str) -> None: ...

    def post_parent(self, channel: str, message: Message) -> str:
        return str(self._slack.chat_postMessage(channel=channel, text=message.text)["ts"])

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        self._slack.chat_update(channel=channel, ts=ref, text=message.text)


def counted(sandbox: SandboxServer, work: Callable[[], T_]) -> tuple[T_, int]:
    before = sandbox.state.request_count()
    found = work()
    return found, sandbox.state.request_count() - before


def seed(account: Account, args: argparse.Namespace) -> tuple[set[str], list[str]]:
    """T's carriers, and the emails the change names (`overlap` of them carry T)."""
    rng = random.Random(7)
    active = sorted(cid for cid in account.contacts if account.contacts[cid].is_active)
    carriers = set(rng.sample(active, args.carriers))
    tag = account.tag_by_name(TAG)
    assert tag is not None
    for cid in carriers:
        account.contacts[cid].tags.add(tag.tag_id)
    account.tag_members[tag.tag_id] = set(carriers)
    others = [cid for cid in active if cid not in carriers]
    named = rng.sample(sorted(carriers), args.overlap) + rng.sample(
        others, args.emails - args.overlap
    )
    return carriers, [account.contacts[cid].email for cid in named]


def follow(poller: Poller, store: Store, clock: FakeClock) -> None:
    for _ in range(500):
        wait = poller.run_once()
        if store.in_flight_count() == 0:
            return
        clock.advance(max(wait, 1.0))
    raise RuntimeError("activities still in flight")


def run(args: argparse.Namespace) -> str:
    clock = FakeClock()
    with (
        SandboxServer(
            contacts=args.contacts, activity_seconds=5.0, rate_per_second=10_000.0, clock=clock
        ) as sandbox,
        FakeSlackServer() as slack_server,
        tempfile.TemporaryDirectory() as folder,
    ):
        store = Store(f"sqlite:///{folder}/bench.db", clock)
        store.upgrade()
        api = CCApi(sandbox.base_url, SpacingLimiter(10_000.0), timeout=60.0)
        account = api.for_account(StaticTokens(DEFAULT_ACCESS_TOKEN), "bench")
        slack = WebClient(token="xoxb-bench", base_url=slack_server.api_url)
        ops = Operations(store, Catalog(clock=clock), clock=clock)
        poller = Poller(store, SingleAccount(account), SingleSlack(slack), clock, owner="bench")
        account.create_tag(TAG)
        carriers, emails = seed(sandbox.state.account(), args)
        inp = TaggingInput("add", (TAG,), Source(SourceKind.CONTACTS, tuple(emails)))
        plan, plan_calls = counted(sandbox, lambda: ops.plan(ACTOR, account, inp))
        print(f"plan: {len(plan.parts)} activities; finding the emails took {plan_calls} calls")

        ops.resolver.index.forget(account_key_of(account.account_key))
        cold, record_cold = counted(
            sandbox, lambda: record_change(ops, ACTOR, account, plan, CHANNEL, "cold")
        )
        ops.plan(ACTOR, account, inp)  # the index is synced again
        warm, record_warm = counted(
            sandbox, lambda: record_change(ops, ACTOR, account, plan, CHANNEL, "warm")
        )
        assert cold is not None and warm is not None
        assert loads(cold).held == loads(warm).held, "cold and warm records differ"
        print(f"record: cold {record_cold} calls, warm {record_warm} calls")

        launcher = Launcher(
            store, ops.starter(ACTOR), ACTOR, Quiet(slack), change_recorder(ops, ACTOR)
        )
        launched = launcher.launch(account, plan, CHANNEL)
        assert launched.job is not None
        job_id = launched.job.id
        follow(poller, store, clock)
        tag = sandbox.state.account().tag_by_name(TAG)
        assert tag is not None
        tagged = set(sandbox.state.account().tag_members[tag.tag_id])
        print(f"change: job {job_id} done, {len(tagged)} contacts carry {TAG}")

        undoer = Undoer(ops, days=7)
        # Warm: the index as the change left it (one `updated_after` refresh reads the contacts
        # the change updated); cold: no index (T's members, 500 a call, and who was deleted).
        undo_plan, undo_warm = counted(sandbox, lambda: undoer.plan(ACTOR, account, job_id))
        ops.resolver.index.forget(account_key_of(account.account_key))
        plan_cold, undo_cold = counted(sandbox, lambda: undoer.plan(ACTOR, account, job_id))
        same = _reversed(plan_cold) == _reversed(undo_plan)
        print(
            f"undo plan: cold {undo_cold} calls, warm {undo_warm} calls, "
            f"{undo_plan.contacts} contacts, {undo_plan.activities} activities, same={same}"
        )
        (undo_job, _), start_calls = counted(
            sandbox, lambda: undoer.run(ACTOR, account, undo_plan, Quiet(slack))
        )
        follow(poller, store, clock)
        now = set(sandbox.state.account().tag_members[tag.tag_id])
        wrong = len(now ^ carriers)
        api.close()
        store.close()
    goal_cold = math.ceil(args.carriers / MAX_CONTACT_IDS) + 1
    goal_undo = math.ceil((args.emails - args.overlap) / MAX_CONTACT_IDS)
    print(
        f"undo: {len(undo_job.started)} activities started; {start_calls} calls to record "
        "it (index cold) and start it"
    )
    print(f"goals: wrong 0, record cold <= {goal_cold}, warm 0, undo <= {goal_undo} activities")
    return (
        f"undo: wrong={wrong} record_calls_cold={record_cold} record_calls_warm={record_warm} "
        f"undo_activities={undo_plan.activities} undo_calls_cold={undo_cold} "
        f"undo_calls_warm={undo_warm}"
    )


def _reversed(plan: UndoPlan) -> list[tuple[str, tuple[str, ...]]]:
    return [(r.held.id, r.contacts) for r in plan.reversals]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--carriers", type=int, default=1000)
    parser.add_argument("--emails", type=int, default=5000)
    parser.add_argument("--overlap", type=int, default=600)
    print(run(parser.parse_args()))


if __name__ == "__main__":
    main()
