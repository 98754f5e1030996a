"""The real client against the sandbox over real HTTP (the rigs are in tests/support/cc.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.cc.client import AccountClient, CCApi
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.sandbox.state import Account
from tests.support.cc import (
    ACTIVITY_SECONDS,
    RATE,
    RATE_PER_SECOND,
    SHORT_TIMEOUT,
    TIMEOUT,
    MakeWorld,
    Rig,
    Tenant,
    Traffic,
    World,
    make_rig,
    new_tenant,
)


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(
        activity_seconds=ACTIVITY_SECONDS, rate_per_second=RATE_PER_SECOND, contacts=0
    ) as server:
        yield server


@pytest.fixture
def tenant(sb: SandboxServer) -> Iterator[Tenant]:
    yield new_tenant(sb)
    sb.faults.clear()  # an armed fault a test did not use up must not reach the next one


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One connection pool for the module's clients (making one costs more than most tests)."""
    with httpx.Client(timeout=10.0) as client:
        yield client


@pytest.fixture(scope="module")
def short_http() -> Iterator[httpx.Client]:
    """A pool whose answers are lost when the sandbox holds them longer than 0.2 s."""
    with httpx.Client(timeout=SHORT_TIMEOUT) as client:
        yield client


@pytest.fixture
def rig(tenant: Tenant, http: httpx.Client) -> Rig:
    return make_rig(tenant, http=http)


@pytest.fixture
def short_rig(tenant: Tenant, short_http: httpx.Client) -> Rig:
    return make_rig(tenant, http=short_http)


@pytest.fixture
def cc(rig: Rig) -> AccountClient:
    return rig.cc


@pytest.fixture
def demo(tenant: Tenant) -> Account:
    return tenant.account


@pytest.fixture
def traffic(tenant: Tenant) -> Traffic:
    return Traffic(tenant.sb)


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

