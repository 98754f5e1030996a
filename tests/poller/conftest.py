"""The poller's world on both databases (its makings are in tests/support/poller.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.clock import FakeClock
from bot.devkit.fakeslack.server import FakeSlack, FakeSlackServer
from bot.devkit.sandbox.server import SandboxServer
from bot.store import Store
from tests.support.poller import ACTIVITY_SECONDS, Accounts, World


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    clock = FakeClock()
    store = Store(database_url, clock)
    store.upgrade()
    # Slack's time is the poller's, and threads are read back at most once a minute (2025 rule).
    slack = FakeSlackServer(FakeSlack(clock=clock, replies_per_minute=1))
    with (
        SandboxServer(
            activity_seconds=ACTIVITY_SECONDS, rate_per_second=1000.0, clock=clock, contacts=0
        ) as sandbox,
        slack,
    ):
        accounts = Accounts(sandbox)
        yield World(clock, sandbox, slack, store, accounts)
        accounts.close()
    store.close()

