"""Fixtures for the sandbox's own tests: a sandbox on a FakeClock and an HTTP client for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account

ACTIVITY_SECONDS = 5.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


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


def list_id(account: Account, name: str) -> str:
    return next(i for i, item in account.lists.items() if item.name == name)


def tag_id(account: Account, name: str) -> str:
    tag = account.tag_by_name(name)
    assert tag is not None
    return tag.tag_id


def finish(clock: FakeClock, cc: httpx.Client, activity_id: str) -> dict[str, Any]:
    """Move time past the activity's run and read it."""
    clock.advance(ACTIVITY_SECONDS + 0.1)
    body: dict[str, Any] = cc.get(f"/activities/{activity_id}").json()
    return body
