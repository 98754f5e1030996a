"""Campaigns, reports and segments over HTTP against the sandbox: see tests/support/campaigns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from tests.support.campaigns import RATE_PER_SECOND, Reader, Tenant, client_for, new_tenant


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(rate_per_second=RATE_PER_SECOND, contacts=0) as server:
        yield server


@pytest.fixture
def tenant(sb: SandboxServer) -> Iterator[Tenant]:
    yield new_tenant(sb)
    sb.faults.clear()


@pytest.fixture
def reader(tenant: Tenant) -> Reader:
    clock = FakeClock(start=datetime.now(UTC))
    return Reader(tenant, client_for(tenant, clock), clock)


@pytest.fixture
def cc(tenant: Tenant) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {tenant.token}"}
    with httpx.Client(base_url=tenant.sb.base_url, headers=headers, timeout=10) as client:
        yield client

