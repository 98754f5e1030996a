"""The undo through the pipeline as the shell drives it: a line, a preview kept as a pending
line (no bulk input), and a `yes` that runs the command's own confirmation."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.ports import SingleAccount
from bot.usecases import Actor, Catalog, Operations
from bot.usecases.commands import REGISTRY
from bot.usecases.ports import Message
from bot.usecases.requests import Pipeline, Request
from tests.support.slack import Bot, run_poller, text_of, wait_for
from tests.support.undo import active_emails, members
from tests.usecases.test_requests import Recorded

REQUESTER = Actor("T0001", "U0001")


class Talk(Recorded):
    """Also notes the edits of parents it did not post (the change's, which the undo edits)."""

    def __init__(self) -> None:
        super().__init__()
        self.edited: dict[str, str] = {}

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        self.edited[ref] = message.text


def test_a_yes_to_an_undo_runs_it_in_the_changes_thread(undo_bot: Bot, clock: FakeClock) -> None:
    bot = undo_bot
    bot.command("create Alumni", "c")
    emails = active_emails(bot, 25)
    bot.command("add Alumni --contacts " + ", ".join(emails), "add")
    wait_for(lambda: any("Started" in text_of(r) for r in bot.responses("add")), what="start")
    run_poller(bot, clock)
    [tracked] = bot.store.recent_activities("T0001")

    ops = Operations(bot.store, Catalog(clock=clock), clock=clock, undo_days=7)
    pipeline = Pipeline(ops, SingleAccount(bot.account), REGISTRY)
    talk = Talk()
    pipeline.handle(Request(REQUESTER, f"undo {tracked.activity_id}", "C0001"), talk)
    [pending] = talk.asked
    assert pending.input is None and pending.line == f"undo {tracked.activity_id}"
    assert pending.channel == "C0001"
    pipeline.confirmed(Request(REQUESTER, "yes", "C0001", once="yes-1"), pending, talk)
    assert not talk.refused and "Started: undo “add tag" in talk.said[-1], talk.said
    assert talk.parents == {}  # no new parent: the undo is told in the change's thread
    assert "asked to undo “add tag" in talk.edited[tracked.parent_ts]
    undo, _ = bot.store.recent_activities("T0001")
    assert undo.parent_ts == tracked.parent_ts and undo.summary.startswith("undo “add tag")
    run_poller(bot, clock)
    assert members(bot, "Alumni") == set()
