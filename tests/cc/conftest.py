"""Fixtures for the client's tests: the sandbox over real HTTP, sharing one FakeClock with the
client, so the sandbox's per-second window and activity progress move with the client's
limiter and backoff sleeps instead of the wall clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from bot.cc.client import AccountClient, CCApi
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.sandbox.server import SandboxServer

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


@pytest.fixture
def make_world() -> Iterator[MakeWorld]:
    started: list[World] = []

    def make(
        *,
        daily_quota: int = 10_000,
        server_quota: int = 10_000,
        max_retries: int = 3,
        contacts: int = 40,
    ) -> World:
        clock = FakeClock()
        server = SandboxServer(
            activity_seconds=5.0,
            rate_per_second=RATE,
            daily_quota=server_quota,
            contacts=contacts,
            clock=clock,
        )
        server.start()
        limiter = TokenBucketLimiter(RATE, daily_quota=daily_quota, clock=clock)
        api = CCApi(server.base_url, limiter, clock=clock, timeout=TIMEOUT, max_retries=max_retries)
        account = api.for_account(StaticTokens(server.access_token))
        world = World(clock, server, limiter, api, account)
        started.append(world)
        return world

    yield make
    for world in started:
        world.api.close()
        world.server.stop()


@pytest.fixture
def world(make_world: MakeWorld) -> World:
    return make_world()
