"""The resolver against the sandbox over real HTTP (see tests/support/people.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.devkit.sandbox.server import SandboxServer
from tests.support.people import UNLIMITED


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(activity_seconds=0.3, rate_per_second=UNLIMITED, contacts=0) as server:
        yield server


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as client:
        yield client
