"""What the API answers becomes typed errors with its own message; retries are bounded and go
through the shared limiter."""

from __future__ import annotations

import socket

import httpx
import pytest

from bot.cc.client import CCApi
from bot.cc.errors import (
    AuthError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    QuotaExhausted,
    RateLimited,
    ServerError,
    Timeout,
    TooManyQueuedActivities,
    TransportError,
    Unauthorized,
    UnsupportedMediaType,
)
from bot.cc.models import TaggingRequest, build
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import FakeClock
from tests.cc.conftest import TIMEOUT, MakeWorld, World

BACKOFFS = [0.5, 1.0, 2.0]  # backoff_base 0.5, doubled, for max_retries 3


def backoff_sleeps(world: World) -> list[float]:
    """The clock's sleeps that are backoffs (the limiter's spacing waits are shorter)."""
    return [s for s in world.clock.sleeps if s >= 0.5]


def tagging_everyone(world: World) -> TaggingRequest:
    vip = world.account.find_tag_by_name("VIP")
    assert vip is not None
    return build(TaggingRequest, {"source": {"all_active_contacts": True}, "tag_ids": [vip.tag_id]})


def test_400_keeps_the_api_message(world: World) -> None:
    request = build(TaggingRequest, {"source": {"contact_ids": ["c"]}, "tag_ids": ["no-such"]})
    with pytest.raises(BadRequest, match="Unknown tags: no-such") as caught:
        world.account.add_tags(request)
    assert caught.value.status == 400
    assert caught.value.error_key == "contacts.api.validation.error"


def test_404_and_409(world: World) -> None:
    with pytest.raises(NotFound, match="Tag not found"):
        world.account.get_tag("missing")
    with pytest.raises(Conflict, match="A tag named 'vip' already exists"):
        world.account.create_tag("vip")
    assert world.requests("/contact_tags", "POST") == 1  # a 409 is not retried


@pytest.mark.parametrize(("status", "error"), [(403, Forbidden), (415, UnsupportedMediaType)])
def test_403_and_415(world: World, status: int, error: type[Exception]) -> None:
    world.server.faults.fail(path="/contact_tags", status=status)
    with pytest.raises(error):
        world.account.list_tags()
    assert world.requests("/contact_tags") == 1


def test_401_with_a_token_that_cannot_refresh(world: World) -> None:
    stranger = world.api.for_account(StaticTokens("not-a-token"))
    with pytest.raises(Unauthorized, match="Unauthorized") as caught:
        stranger.list_tags()
    assert isinstance(caught.value, AuthError)  # "connect the account again"
    assert caught.value.error_key == "unauthorized"


def test_gets_retry_5xx_with_backoff_then_succeed(world: World) -> None:
    world.server.faults.fail(path="/contact_tags", method="GET", times=2, status=503)
    assert len(world.account.list_tags()) == 4
    assert world.requests("/contact_tags", "GET") == 3
    assert backoff_sleeps(world) == BACKOFFS[:2]


def test_5xx_retries_are_bounded(world: World) -> None:
    world.server.faults.fail(path="/contact_tags", method="GET", times=10, status=500)
    with pytest.raises(ServerError, match="Internal Server Error") as caught:
        world.account.list_tags()
    assert caught.value.status == 500
    assert world.requests("/contact_tags", "GET") == 4
    assert backoff_sleeps(world) == BACKOFFS


def test_a_timed_out_get_is_retried(world: World) -> None:
    world.server.faults.delay(TIMEOUT * 3, path="/contact_lists", method="GET")
    assert len(world.account.list_lists()) == 6
    assert world.requests("/contact_lists", "GET") == 2


def test_timeouts_are_bounded(make_world: MakeWorld) -> None:
    world = make_world(max_retries=1)
    world.server.faults.delay(TIMEOUT * 3, path="/contact_lists", method="GET", times=2)
    with pytest.raises(Timeout):
        world.account.list_lists()
    assert world.requests("/contact_lists", "GET") == 2


def test_a_put_is_retried_like_a_get(world: World) -> None:
    tag = world.account.create_tag("Before")
    world.server.faults.fail(path=f"/contact_tags/{tag.tag_id}", method="PUT")
    assert world.account.rename_tag(tag.tag_id, "After").name == "After"
    assert world.requests(f"/contact_tags/{tag.tag_id}", "PUT") == 2


def test_429_throttled_holds_every_caller_back_then_retries(world: World) -> None:
    world.server.faults.throttle(path="/contact_tags", times=2)
    start = world.clock.monotonic()
    assert len(world.account.list_tags()) == 4
    assert world.requests("/contact_tags") == 3
    # the limiter was held off 0.5 s, then 1 s: the retry left only after both
    assert world.clock.monotonic() - start >= 1.5


def test_429_throttled_on_an_activity_post_is_retried_without_a_second_activity(
    world: World,
) -> None:
    request = tagging_everyone(world)
    world.server.faults.throttle(path="/activities/contacts_taggings_add", method="POST")
    world.account.add_tags(request)
    assert world.requests("/activities/contacts_taggings_add", "POST") == 2
    assert len(world.account.list_activities()) == 1


def test_quota_exceeded_at_the_api_is_raised_at_once(make_world: MakeWorld) -> None:
    world = make_world(server_quota=2)
    world.account.list_tags()
    world.account.list_lists()
    with pytest.raises(RateLimited, match="Limit Exceeded") as caught:
        world.account.list_tags()
    assert caught.value.is_daily_quota
    assert world.requests() == 3


def test_quota_exhausted_locally_raises_before_a_call(make_world: MakeWorld) -> None:
    world = make_world(daily_quota=2)
    world.account.list_tags()
    world.account.list_lists()
    with pytest.raises(QuotaExhausted, match="resets at 00:00 UTC"):
        world.account.list_tags()
    assert world.requests() == 2


def test_1000_queued_activities_is_not_retried(world: World) -> None:
    request = tagging_everyone(world)
    state = world.server.state
    for _ in range(1000):
        state.start_activity(state.account(), "contacts_taggings_add")
    with pytest.raises(TooManyQueuedActivities, match="1,000 queued activities"):
        world.account.add_tags(request)
    assert world.requests("/activities/contacts_taggings_add", "POST") == 1


def test_transport_errors_before_sending_are_retried_then_raised() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: connections are refused
    clock = FakeClock()
    api = CCApi(f"http://127.0.0.1:{port}/v3", TokenBucketLimiter(clock=clock), clock=clock)
    with pytest.raises(TransportError, match="Cannot reach Constant Contact"):
        api.for_account(StaticTokens("t")).list_tags()
    assert [s for s in clock.sleeps if s >= 0.5] == BACKOFFS
    api.close()


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


def test_a_burst_of_50_calls_meets_no_429(world: World) -> None:
    """Client and sandbox both at 4 requests a second (one FakeClock), two accounts of the key.

    One thread: a FakeClock cannot model concurrent sleepers (each sleep moves everyone's time).
    The limiter's thread safety is tested in test_ratelimit.py.
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
