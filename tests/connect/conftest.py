from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from tests.connect.harness import Harness, harness


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    """The sandbox shares our FakeClock: its 1-per-second token endpoint sees our gate's waits."""
    clock = FakeClock()
    with (
        SandboxServer(activity_seconds=0.3, rate_per_second=50.0, clock=clock) as sandbox,
        harness(sandbox, database_url, clock) as running,
    ):
        yield running
