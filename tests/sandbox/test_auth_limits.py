"""Bearer tokens (401), the per-second rate and daily quota of the API key (429), counting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer

UNAUTHORIZED = {"error_key": "unauthorized", "error_message": "Unauthorized"}


@pytest.fixture
def limited(clock: FakeClock) -> Iterator[SandboxServer]:
    with SandboxServer(rate_per_second=4, daily_quota=10, clock=clock, contacts=5) as server:
        yield server


def _get(server: SandboxServer, token: str = "sandbox-token") -> httpx.Response:
    return httpx.get(
        f"{server.base_url}/contact_tags", headers={"Authorization": f"Bearer {token}"}
    )


def test_missing_or_wrong_token_is_401(sb: SandboxServer) -> None:
    assert httpx.get(f"{sb.base_url}/contact_tags").json() == UNAUTHORIZED
    wrong = _get(sb, "guess")
    assert wrong.status_code == 401 and wrong.json() == UNAUTHORIZED
    basic = httpx.get(f"{sb.base_url}/contact_tags", auth=("sandbox-token", ""))
    assert basic.status_code == 401


def test_extra_access_token_and_expiry(clock: FakeClock) -> None:
    with SandboxServer(clock=clock, contacts=5, access_token="my-token") as server:
        assert _get(server, "my-token").status_code == 200
        server.state.add_access_token("short", expires_in=60)
        assert _get(server, "short").status_code == 200
        clock.advance(61)
        expired = _get(server, "short")
        assert expired.status_code == 401 and expired.json() == UNAUTHORIZED
        assert _get(server).status_code == 200  # sandbox-token never expires


def test_four_requests_a_second(limited: SandboxServer, clock: FakeClock) -> None:
    assert [_get(limited).status_code for _ in range(4)] == [200] * 4
    throttled = _get(limited)
    assert throttled.status_code == 429
    assert throttled.json() == {"error_key": "throttled", "error_message": "Too Many Requests"}
    clock.advance(1.0)
    assert _get(limited).status_code == 200


def test_tokens_of_one_app_share_the_rate(limited: SandboxServer, clock: FakeClock) -> None:
    limited.state.add_access_token("second")
    assert [_get(limited, t).status_code for t in ("sandbox-token", "second") * 2] == [200] * 4
    assert _get(limited, "second").status_code == 429
    limited.state.register_client("other-app", "secret")
    limited.state.add_access_token("other", client_id="other-app")
    assert _get(limited, "other").status_code == 200  # another API key, its own budget


def test_daily_quota_resets_at_midnight_utc(limited: SandboxServer, clock: FakeClock) -> None:
    for _ in range(10):
        assert _get(limited).status_code == 200
        clock.advance(1)
    spent = _get(limited)
    assert spent.status_code == 429
    assert spent.json() == {"error_key": "quota_exceeded", "error_message": "Limit Exceeded"}
    midnight = datetime(2026, 1, 2, tzinfo=UTC)
    clock.advance((midnight - clock.now()).total_seconds())
    assert _get(limited).status_code == 200


def test_requests_are_counted_per_path(sb: SandboxServer, cc: httpx.Client) -> None:
    activity = cc.delete(f"/contact_tags/{next(iter(sb.state.account().tags))}").json()
    for _ in range(3):
        cc.get(f"/activities/{activity['activity_id']}")
    cc.get("/activities")
    assert sb.state.status_calls() == 3
    assert sb.state.request_count("/v3/activities", "GET") == 4
    assert sb.state.request_count("/contact_tags/", "DELETE") == 1
    counts = httpx.get(f"{sb.url}/_sandbox/requests").json()
    assert counts["status_calls"] == 3
    assert counts["requests"][f"GET /v3/activities/{activity['activity_id']}"] == 3
