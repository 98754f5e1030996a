"""Fixtures for the sandbox's own tests: a sandbox on a FakeClock and an HTTP client for it."""

from __future__ import annotations

from typing import Any

import httpx

from bot.clock import FakeClock
from bot.devkit.sandbox.state import Account

ACTIVITY_SECONDS = 5.0


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
