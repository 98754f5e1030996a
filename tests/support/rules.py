"""A bot over signed HTTP whose store, sandbox and worker share one fake clock, and a worker
(the poller's cycles and the rules' runs) in a thread, as `cctag poll` runs them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.clock import FakeClock
from bot.poller import Poller
from bot.ports import SingleAccount, SingleSlack
from bot.slack.conversation import ChannelPosts
from bot.usecases import Catalog, Operations
from bot.usecases.commands import REGISTRY
from bot.usecases.requests import Pipeline
from bot.usecases.rules.runner import RuleRunner
from bot.worker import run_cycles
from tests.support.slack import Bot, wait_for

START = "2026-03-28T23:58:00+00:00"


@dataclass
class Worker:
    """A running worker; `cycles` counts its rounds, so a test can wait for a few more."""

    stop: threading.Event
    thread: threading.Thread
    counted: list[int]

    @property
    def cycles(self) -> int:
        return self.counted[0]

    def rounds(self, more: int = 3) -> None:
        """Wait (for the thread, not for time) until it has gone round `more` more times."""
        target = self.cycles + more
        wait_for(lambda: self.cycles >= target, what=f"{more} worker cycles")


def pipeline_of(bot: Bot, clock: FakeClock) -> Pipeline:
    operations = Operations(bot.store, Catalog(clock=clock), clock=clock)
    return Pipeline(operations, SingleAccount(bot.account), REGISTRY)


@contextmanager
def worker(
    bot: Bot, clock: FakeClock, owner: str, pipeline: Pipeline | None = None
) -> Iterator[Worker]:
    """`cctag poll` in a thread: activities followed, rules run (through `pipeline`, by
    default one that lets everything through), on `clock`."""
    client = WebClient(token="xoxb-test", base_url=bot.slack.api_url)
    poller = Poller(bot.store, SingleAccount(bot.account), SingleSlack(client), clock, owner=owner)
    runs = pipeline or pipeline_of(bot, clock)
    runner = RuleRunner(runs, lambda _: ChannelPosts(client), clock, owner=owner)
    counted = [0]

    def counting() -> float:
        counted[0] += 1
        return 0.0

    stop = threading.Event()
    thread = threading.Thread(
        target=run_cycles,
        args=(stop, [poller.run_once, runner.run_due, counting]),
        kwargs={"fallback": 0.01, "longest": 0.01},
        daemon=True,
    )
    thread.start()
    try:
        yield Worker(stop, thread, counted)
    finally:
        stop.set()
        thread.join(timeout=10)
