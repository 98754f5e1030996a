"""Fixtures; the helpers are in tests/support/rules.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.store import Store
from tests.support.rules import (
    START,
)
from tests.support.slack import Bot, bot_over


@pytest.fixture
def clock() -> FakeClock:
    from datetime import datetime

    return FakeClock(datetime.fromisoformat(START))


@pytest.fixture
def rules_bot(database_url: str, clock: FakeClock) -> Iterator[Bot]:
    with SandboxServer(activity_seconds=20.0, rate_per_second=1000.0, clock=clock) as sandbox:
        store = Store(database_url, clock)
        store.upgrade()
        with bot_over(sandbox, store, rate_per_second=1000.0) as served:
            yield served
        store.close()
