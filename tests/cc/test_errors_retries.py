"""Each error kind keeps the API's message; what is retried, how often, after which waits.

Waits are on FakeClocks: `rig.backoffs` are the client's sleeps between retries, `rig.hold_offs`
the rate limiter's waits after a 429 (every caller of the key waits there).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.cc.budget import BudgetSpent, next_reset
from bot.cc.client import AccountClient, CCApi
from bot.cc.errors import (
    AuthError,
    CCError,
    Forbidden,
    QuotaExhausted,
    RateLimited,
    ServerError,
    Timeout,
    TooManyQueuedActivities,
    TransportError,
    Unauthorized,
    UnsupportedMediaType,
    error_for,
)
from bot.cc.ratelimit import SpacingLimiter, TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.threaded_server import free_port
from tests.support.cc import (
    UNLIMITED,
    Rig,
    Tenant,
    Traffic,
    World,
    make_rig,
    new_tenant,
    tag_id,
)

# ---------------------------------------------------------------- 429 throttled


def test_throttled_get_is_held_off_and_retried(rig: Rig, traffic: Traffic) -> None:
    rig.sb.faults.throttle(path="/v3/contact_tags", method="GET", times=2)
    assert len(rig.cc.list_tags()) == 4
    assert traffic.count("/v3/contact_tags", "GET") == 3
    assert rig.hold_offs == [0.5, 1.0]  # exponential, and through the key's limiter
    assert rig.backoffs == []


def test_throttled_activity_post_is_sent_again_and_starts_one_activity(
    rig: Rig, traffic: Traffic, tenant: Tenant
) -> None:
    doomed = rig.cc.create_tag("Doomed")
    rig.sb.faults.throttle(path="/v3/activities/contacts_tags_delete", method="POST")
    activity = rig.cc.delete_tags([doomed.tag_id])
    assert list(tenant.account.activities) == [activity.activity_id]
    assert traffic.count("/v3/activities/contacts_tags_delete", "POST") == 2
    assert traffic.count("/v3/activities", "GET") == 0  # a 429 is not a lost answer
    assert rig.hold_offs == [0.5]


def test_throttled_beyond_the_bound_is_raised(rig: Rig, traffic: Traffic) -> None:
    rig.sb.faults.throttle(path="/v3/contact_lists", times=4)
    with pytest.raises(RateLimited) as caught:
        rig.cc.list_lists()
    assert caught.value.status == 429 and caught.value.error_key == "throttled"
    assert caught.value.message == "Too Many Requests"
    assert not caught.value.is_daily_quota
    assert traffic.count("/v3/contact_lists") == 4  # max_retries=3
    assert rig.hold_offs == [0.5, 1.0, 2.0]


# ---------------------------------------------------------------- 5xx, timeouts, no connection


def test_5xx_on_get_is_retried_with_backoff(rig: Rig, traffic: Traffic) -> None:
    rig.sb.faults.fail(path="/v3/contact_lists", method="GET", times=2, status=502)
    assert len(rig.cc.list_lists()) == 6
    assert traffic.count("/v3/contact_lists", "GET") == 3
    assert rig.backoffs == [0.5, 1.0]


def test_5xx_beyond_the_bound_is_a_server_error_with_the_api_message(
    rig: Rig, traffic: Traffic
) -> None:
    rig.sb.faults.fail(path="/v3/contacts", method="GET", times=4, status=503)
    with pytest.raises(ServerError) as caught:
        rig.cc.count_contacts()
    assert caught.value.status == 503
    assert caught.value.message == "Service Unavailable"
    assert caught.value.error_key == "server.error"
    assert traffic.count("/v3/contacts", "GET") == 4
    assert rig.backoffs == [0.5, 1.0, 2.0]


def test_5xx_on_rename_is_retried(rig: Rig, traffic: Traffic, tenant: Tenant) -> None:
    tag = rig.cc.create_tag("Before")
    rig.sb.faults.fail(path=f"/v3/contact_tags/{tag.tag_id}", method="PUT")
    assert rig.cc.rename_tag(tag.tag_id, "After").name == "After"
    assert tenant.account.tags[tag.tag_id].name == "After"
    assert traffic.count("/v3/contact_tags/", "PUT") == 2
    assert rig.backoffs == [0.5]


def test_slow_answer_is_a_timeout_after_bounded_retries(
    tenant: Tenant, traffic: Traffic, short_http: httpx.Client
) -> None:
    rig = make_rig(tenant, http=short_http, max_retries=2)
    tenant.sb.faults.delay(0.5, path="/v3/contact_lists", method="GET", times=3)
    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        rig.cc.list_lists()
    assert "did not answer in time" in caught.value.message
    assert traffic.count("/v3/contact_lists", "GET") == 3
    assert rig.backoffs == [0.5, 1.0]  # on the FakeClock: no real waiting
    assert time.monotonic() - started < 1.5


def test_one_slow_answer_is_retried(tenant: Tenant, traffic: Traffic, short_rig: Rig) -> None:
    rig = short_rig
    tenant.sb.faults.delay(0.5, path="/v3/contact_tags", method="GET")
    assert len(rig.cc.list_tags()) == 4
    assert traffic.count("/v3/contact_tags", "GET") == 2
    assert rig.backoffs == [0.5]


def test_no_server_is_a_transport_error_after_bounded_retries() -> None:
    clock = FakeClock(start=datetime.now(UTC))
    limiter = SpacingLimiter(UNLIMITED, clock=FakeClock())
    api = CCApi(f"http://127.0.0.1:{free_port()}/v3", limiter, clock=clock, max_retries=2)
    cc = api.for_account(StaticTokens("any"))
    with pytest.raises(TransportError, match="Cannot reach Constant Contact"):
        cc.list_tags()
    # Nothing was sent, so even an activity POST may be sent again.
    with pytest.raises(TransportError):
        cc.delete_tags(["t1"])
    assert clock.sleeps == [0.5, 1.0, 0.5, 1.0]


# ---------------------------------------------------------------- 401, 415


def test_refused_static_token_is_an_auth_error_keeping_the_api_message(
    tenant: Tenant, traffic: Traffic, http: httpx.Client
) -> None:
    rig = make_rig(tenant, tokens=StaticTokens("not-a-token"), http=http)
    with pytest.raises(AuthError) as caught:
        rig.cc.list_tags()
    assert isinstance(caught.value, Unauthorized)
    assert caught.value.status == 401
    assert caught.value.message.startswith("Unauthorized")
    assert "cannot be refreshed" in caught.value.message
    assert caught.value.error_key == "unauthorized"
    assert traffic.count("/v3/") == 1  # no retry without a new token


def test_expired_static_token_is_refused(rig: Rig, tenant: Tenant) -> None:
    assert rig.cc.list_tags()
    tenant.sb.faults.expire_token(tenant.token)
    with pytest.raises(Unauthorized, match="Unauthorized"):
        rig.cc.list_tags()


def test_403_is_forbidden_and_not_retried(rig: Rig, traffic: Traffic) -> None:
    rig.sb.faults.fail(path="/v3/contact_tags", status=403)
    with pytest.raises(Forbidden) as caught:
        rig.cc.list_tags()
    assert caught.value.status == 403
    assert traffic.count("/v3/contact_tags") == 1
    assert rig.backoffs == []


def test_415_keeps_the_api_message(tenant: Tenant, traffic: Traffic) -> None:
    """Reachable only through a misconfigured HTTP client that forces another content type."""
    http = httpx.Client(headers={"Content-Type": "text/plain"}, timeout=5)
    rig = make_rig(tenant, http=http)
    with pytest.raises(UnsupportedMediaType) as caught:
        rig.cc.create_tag("Plain text")
    assert caught.value.status == 415
    assert caught.value.message == "Content type 'text/plain' not supported"
    assert tenant.account.tag_by_name("Plain text") is None
    assert traffic.count("/v3/contact_tags", "POST") == 1  # not retried


# ---------------------------------------------------------------- quotas


@pytest.fixture(scope="module")
def quota_sb() -> Iterator[SandboxServer]:
    """A sandbox on a FakeClock whose daily quota is 2 requests per API key."""
    with SandboxServer(
        activity_seconds=5.0, rate_per_second=UNLIMITED, daily_quota=2, clock=FakeClock()
    ) as server:
        yield server


def test_quota_exceeded_spends_the_day_at_once(quota_sb: SandboxServer) -> None:
    tenant = new_tenant(quota_sb, contacts=10)
    rig = make_rig(tenant)
    traffic = Traffic(quota_sb)
    rig.cc.list_tags()
    rig.cc.list_lists()
    with pytest.raises(BudgetSpent, match="reset at 00:00 UTC") as caught:
        rig.cc.delete_tags([tag_id(tenant.account, "VIP")])
    answer = caught.value.__cause__
    assert isinstance(answer, RateLimited) and answer.is_daily_quota
    assert answer.error_key == "quota_exceeded" and answer.message == "Limit Exceeded"
    assert caught.value.reset_at == next_reset(rig.clock.now())
    assert traffic.count() == 3  # not sent again, not reconciled
    assert rig.hold_offs == [] and rig.backoffs == []
    assert tenant.account.activities == {}
    with pytest.raises(BudgetSpent):  # the day counts as spent here too: no call is made
        rig.cc.list_tags()
    assert traffic.count() == 3


def test_throttled_is_told_apart_from_quota_exceeded_and_retried() -> None:
    throttled = error_for(429, '[{"error_key": "throttled", "error_message": "Too Many"}]')
    spent = error_for(429, '[{"error_key": "quota_exceeded", "error_message": "Limit"}]')
    assert isinstance(throttled, RateLimited) and not throttled.is_daily_quota
    assert isinstance(spent, RateLimited) and spent.is_daily_quota


def test_too_many_queued_activities_is_raised_at_once(quota_sb: SandboxServer) -> None:
    tenant = new_tenant(quota_sb, contacts=10)
    for _ in range(1_000):
        quota_sb.state.start_activity(tenant.account, "contacts_tags_delete", tag_ids=["x"])
    rig = make_rig(tenant)
    traffic = Traffic(quota_sb)
    with pytest.raises(RateLimited) as caught:
        rig.cc.delete_tags([tag_id(tenant.account, "VIP")])
    assert isinstance(caught.value, TooManyQueuedActivities)
    assert caught.value.message == "You exceeded 1,000 queued activities for this user account."
    assert not caught.value.is_daily_quota
    assert traffic.count() == 1
    assert rig.hold_offs == [] and rig.backoffs == []
    assert len(tenant.account.activities) == 1_000


def test_the_limiters_daily_quota_stops_calls_before_they_are_sent(
    tenant: Tenant, traffic: Traffic, http: httpx.Client
) -> None:
    limiter = SpacingLimiter(UNLIMITED, daily_quota=2, clock=FakeClock())
    rig = make_rig(tenant, limiter=limiter, http=http)
    rig.cc.list_tags()
    rig.cc.list_lists()
    with pytest.raises(QuotaExhausted, match="00:00 UTC"):
        rig.cc.delete_tags([tag_id(tenant.account, "VIP")])
    assert traffic.count() == 2
    assert tenant.account.activities == {}


# ---------------------------------------------------------------- a burst meets no 429


def test_a_burst_of_50_calls_meets_no_429() -> None:
    """Client limiter and sandbox at the same rate, real clock, five threads sharing the key."""
    rate = 25.0
    with SandboxServer(activity_seconds=5.0, rate_per_second=rate, contacts=10) as server:
        tenant = new_tenant(server, contacts=10)
        api = CCApi(server.base_url, SpacingLimiter(rate), clock=FakeClock(), max_retries=0)
        cc: AccountClient = api.for_account(StaticTokens(tenant.token))
        traffic = Traffic(server)
        errors: list[CCError] = []

        def ten_calls() -> None:
            try:
                for _ in range(10):
                    cc.list_activities(limit=1)
            except CCError as exc:  # max_retries=0: a 429 would surface here
                errors.append(exc)

        started = time.monotonic()
        threads = [threading.Thread(target=ten_calls) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        elapsed = time.monotonic() - started
        assert errors == []
        assert traffic.count("/v3/activities", "GET") == 50  # every call answered first time
        assert elapsed >= 49 / rate  # spaced, not bunched: never over 25 in any second


def test_a_burst_of_50_calls_through_a_token_bucket_meets_no_429(world: World) -> None:
    """TokenBucketLimiter and sandbox both at 4 requests a second (one FakeClock), two accounts
    of the key.

    One thread: a FakeClock cannot model concurrent sleepers (each sleep moves everyone's time).
    The limiter's thread safety is tested in test_ratelimit_tokenbucket.py.
    """
    state = world.server.state
    state.add_account("second", contacts=5)
    state.add_access_token("second-token", "second", expires_in=None)
    accounts = [world.account, world.api.for_account(StaticTokens("second-token"))]
    start = world.clock.monotonic()
    for number in range(50):
        accounts[number % 2].list_tags()
    assert world.requests("/contact_tags", "GET") == 50  # not one was throttled and retried
    assert world.limiter.calls_today == 50
    assert world.clock.monotonic() - start == pytest.approx(49 / (4.0 * 0.95))


# ---------------------------------------------------------------- Retry-After


def test_retry_after_is_honoured_when_an_api_sends_it() -> None:
    """The real API sends no Retry-After; a proxy in front of it might."""
    answers = iter(
        [
            httpx.Response(429, json={"error_key": "throttled"}, headers={"Retry-After": "7"}),
            httpx.Response(200, json={"tags": [], "_links": {}}),
        ]
    )
    clock = FakeClock()
    http = httpx.Client(transport=httpx.MockTransport(lambda request: next(answers)))
    api = CCApi("https://api.example/v3", TokenBucketLimiter(clock=clock), clock=clock, http=http)
    assert api.for_account(StaticTokens("t")).list_tags() == []
    assert clock.monotonic() >= 7.0
