"""Fixtures for the sandbox's own tests: a sandbox on a FakeClock and an HTTP client for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account
from tests.support.sandbox import ACTIVITY_SECONDS


@pytest.fixture
def sb(clock: FakeClock) -> Iterator[SandboxServer]:
    with SandboxServer(
        activity_seconds=ACTIVITY_SECONDS, rate_per_second=1000.0, clock=clock, contacts=200
    ) as server:
        yield server


@pytest.fixture
def cc(sb: SandboxServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {sb.access_token}"}
    with httpx.Client(base_url=sb.base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def demo(sb: SandboxServer) -> Account:
    return sb.state.account()
