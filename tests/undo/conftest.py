"""Fixtures; the helpers are in tests/support/undo.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.clock import FakeClock
from tests.support.slack import Bot
from tests.support.undo import (
    bot_on,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def undo_bot(tmp_path: Any, clock: FakeClock) -> Iterator[Bot]:
    yield from bot_on(f"sqlite:///{tmp_path}/cctag.db", clock)
