"""The real client against the sandbox over real HTTP on 127.0.0.1.

One sandbox server per test module (the shared fixture's settings: real clock, activities of
0.3 s, 50 requests a second), and a fresh account per test (`tenant`), seeded like the demo
account, with its own token of its own API client, so each test has its own data and its own
rate budget and quota; starting a server per test would cost more than the tests themselves.

`rig` wires a CCApi the way production does, with two FakeClocks so nothing sleeps for real:
`rig.clock` is the client's own clock (every backoff sleep is recorded in `rig.clock.sleeps`),
`rig.limiter_clock` is the rate limiter's (spacing and 429 hold-offs land there). The client's
clock starts at the real time: the sandbox stamps activities with the real clock, and the
lost-answer reconciliation compares those stamps with the client's own.

`world` is for the few tests that need the sandbox's time to move with the client's: a sandbox
of its own sharing one FakeClock with the client and a TokenBucketLimiter, so the per-second
window and activity ages follow the client's sleeps and `clock.advance` instead of the wall clock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from bot.cc.client import AccountClient, CCApi
from bot.cc.models import Activity
from bot.cc.ports import TokenSource
from bot.cc.ratelimit import SpacingLimiter, TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account

ACTIVITY_SECONDS = 0.3
RATE_PER_SECOND = 50.0
CONTACTS = 200
SHORT_TIMEOUT = 0.2

# Fast enough that the limiter never holds a test back, and its sleeps stay negligible.
UNLIMITED = 1_000_000.0


@dataclass
class Rig:
    sb: SandboxServer
    api: CCApi
    cc: AccountClient
    clock: FakeClock
    limiter: SpacingLimiter
    limiter_clock: FakeClock

    @property
    def backoffs(self) -> list[float]:
        return list(self.clock.sleeps)

    @property
    def hold_offs(self) -> list[float]:
        """The limiter's waits longer than its (negligible) spacing: 429 hold-offs."""
        return [round(s, 6) for s in self.limiter_clock.sleeps if s > 0.01]


@dataclass
class Tenant:
    """One account of the sandbox, reached with `token` of API client `client_id`."""

    sb: SandboxServer
    account: Account
    token: str
    client_id: str


def new_tenant(sb: SandboxServer, contacts: int = CONTACTS) -> Tenant:
    suffix = uuid.uuid4().hex[:10]
    account = sb.state.add_account(f"account-{suffix}", contacts=contacts)
    token, client_id = f"token-{suffix}", f"client-{suffix}"
    sb.state.add_access_token(token, account.account_id, client_id=client_id, expires_in=None)
    return Tenant(sb, account, token, client_id)


def make_rig(
    tenant: Tenant,
    *,
    tokens: TokenSource | None = None,
    http: httpx.Client | None = None,
    max_retries: int = 3,
    limiter: SpacingLimiter | None = None,
) -> Rig:
    clock = FakeClock(start=datetime.now(UTC))
    limiter_clock = FakeClock(start=datetime.now(UTC))
    limiter = limiter or SpacingLimiter(rate_per_second=UNLIMITED, clock=limiter_clock)
    api = CCApi(tenant.sb.base_url, limiter, http=http, clock=clock, max_retries=max_retries)
    cc = api.for_account(tokens or StaticTokens(tenant.token))
    return Rig(tenant.sb, api, cc, clock, limiter, limiter_clock)


def wait_done(cc: AccountClient, activity_id: str, within: float = 5.0) -> Activity:
    """Poll the activity (real time, short waits) until it is terminal, or fail at the deadline."""
    deadline = time.monotonic() + within
    while True:
        activity = cc.get_activity(activity_id)
        if activity.is_terminal:
            return activity
        if time.monotonic() > deadline:
            raise AssertionError(f"activity {activity_id} still {activity.state} after {within}s")
        time.sleep(0.05)


class Traffic:
    """Requests that reached the sandbox since this was made (the counters are server-wide)."""

    def __init__(self, sb: SandboxServer) -> None:
        self._sb = sb
        with sb.state.lock:
            self._start = dict(sb.state.requests)

    def count(self, path_contains: str = "", method: str | None = None) -> int:
        with self._sb.state.lock:
            now = dict(self._sb.state.requests)
        total = 0
        for key, seen in now.items():
            verb, path = key.split(" ", 1)
            if path_contains in path and method in (None, verb):
                total += seen - self._start.get(key, 0)
        return total


@contextmanager
def no_http(sb: SandboxServer) -> Iterator[None]:
    """The block sends no request to the sandbox at all."""
    before = sb.state.request_count()
    yield
    assert sb.state.request_count() == before, "a request reached the sandbox"


def list_id(account: Account, name: str) -> str:
    return next(i for i, item in account.lists.items() if item.name == name)


def tag_id(account: Account, name: str) -> str:
    tag = account.tag_by_name(name)
    assert tag is not None, name
    return tag.tag_id


# ---------------------------------------------------------------- a sandbox on the client's clock

RATE = 4.0  # the real API's per-second limit, on both sides
TIMEOUT = 0.3  # real seconds: short, so lost answers are quick to provoke


@dataclass
class World:
    clock: FakeClock
    server: SandboxServer
    limiter: TokenBucketLimiter
    api: CCApi
    account: AccountClient

    def requests(self, path_contains: str = "", method: str | None = None) -> int:
        """Requests that reached the sandbox (throttled and faulted ones included)."""
        return self.server.state.request_count(path_contains, method)


MakeWorld = Callable[..., World]
