"""The metrics' hook points on real local servers: Constant Contact's requests through the
client as production builds it, Slack's errors through a real WebClient, the /metrics doors."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cc.client import CCApi
from bot.cc.errors import RateLimited
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.devkit.fakeslack import FakeSlackServer
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.threaded_server import free_port
from bot.ops import metrics


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def api(sandbox: SandboxServer) -> Iterator[CCApi]:
    api = CCApi(
        sandbox.base_url,
        TokenBucketLimiter(rate_per_second=1000.0),
        http=metrics.cc_http_client(sandbox.base_url),
        max_retries=0,
    )
    yield api
    api.close()


def test_constant_contact_requests_are_counted_by_endpoint_template(
    api: CCApi, sandbox: SandboxServer
) -> None:
    account = api.for_account(StaticTokens(sandbox.access_token))
    tag = account.list_tags()[0]
    by_id = {"endpoint": "/contact_tags/{id}", "method": "GET", "status": "200"}
    listing = {"endpoint": "/contact_tags", "method": "GET", "status": "200"}
    before, listed = (
        value("cctag_cc_requests_total", **by_id),
        value("cctag_cc_requests_total", **listing),
    )
    account.get_tag(tag.tag_id)
    account.get_tag(tag.tag_id)
    account.list_tags()
    assert value("cctag_cc_requests_total", **by_id) == before + 2
    assert value("cctag_cc_requests_total", **listing) == listed + 1


def test_a_429_is_counted_by_its_error_key(api: CCApi, sandbox: SandboxServer) -> None:
    account = api.for_account(StaticTokens(sandbox.access_token))
    before = value("cctag_cc_rate_limited_total", error_key="throttled")
    sandbox.faults.throttle(path="/contact_tags", method="GET")
    with pytest.raises(RateLimited):
        account.list_tags()
    assert value("cctag_cc_rate_limited_total", error_key="throttled") == before + 1


def test_requests_that_get_no_answer_are_counted_as_errors() -> None:
    port = free_port()  # nothing listens there
    api = CCApi(
        f"http://127.0.0.1:{port}/v3",
        TokenBucketLimiter(rate_per_second=1000.0),
        http=metrics.cc_http_client(f"http://127.0.0.1:{port}/v3"),
        max_retries=0,
    )
    labels = {"endpoint": "/contact_tags", "method": "GET", "status": "error"}
    before = value("cctag_cc_requests_total", **labels)
    with pytest.raises(Exception, match="reach"):
        api.for_account(StaticTokens("t")).list_tags()
    api.close()
    assert value("cctag_cc_requests_total", **labels) == before + 1


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/v3/contact_tags/3fa85f64-5717-4562-b3fc-2c963f66afa6", "/contact_tags/{id}"),
        ("/v3/activities/contacts_taggings_add", "/activities/contacts_taggings_add"),
        ("/v3/segments/42", "/segments/{id}"),
        ("/v3/emails/activities/3fa85f64-5717-4562-b3fc-2c963f66afa6", "/emails/activities/{id}"),
        ("/v3/contacts/ABC123xyz", "/contacts/{id}"),
    ],
)
def test_endpoints_are_templates_never_ids(path: str, template: str) -> None:
    assert metrics.endpoint_template(path, "/v3") == template


def test_a_label_has_a_bounded_number_of_values() -> None:
    bounded = metrics._Bounded()
    seen = {bounded(f"/surprise_{n}") for n in range(metrics.MAX_LABEL_VALUES + 50)}
    assert len(seen) == metrics.MAX_LABEL_VALUES + 1
    assert bounded("/surprise_1") == "/surprise_1"
    assert bounded("/one_more") == metrics.OTHER


def test_slack_errors_are_counted_by_method_and_error_and_successes_are_not() -> None:
    labels = {"method": "chat.update", "error": "message_not_found"}
    before = value("cctag_slack_api_errors_total", **labels)
    ok_before = sum(
        s.value
        for family in REGISTRY.collect()
        if family.name == "cctag_slack_api_errors"
        for s in family.samples
        if s.labels.get("method") == "chat.postMessage" and s.name.endswith("_total")
    )
    with FakeSlackServer() as slack:
        client = WebClient(
            token="xoxb-1", base_url=slack.api_url, retry_handlers=[metrics.SlackErrorCounter()]
        )
        client.chat_postMessage(channel="C1", text="fine")
        with pytest.raises(SlackApiError):
            client.chat_update(channel="C1", ts="1.000001", text="gone")
    assert value("cctag_slack_api_errors_total", **labels) == before + 1
    ok_after = sum(
        s.value
        for family in REGISTRY.collect()
        if family.name == "cctag_slack_api_errors"
        for s in family.samples
        if s.labels.get("method") == "chat.postMessage" and s.name.endswith("_total")
    )
    assert ok_after == ok_before


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        (None, False),
        ("Bearer right-token", True),
        ("bearer right-token", True),
        ("Bearer wrong-token", False),
        ("Basic right-token", False),
        ("right-token", False),
    ],
)
def test_the_metrics_token_is_a_bearer_token(header: str | None, allowed: bool) -> None:
    assert metrics.authorized(header, "right-token") is allowed
    assert metrics.authorized(header, None) is True  # no token set: open


def test_the_poller_metrics_port_asks_for_the_token() -> None:
    with metrics.MetricsServer(free_port(), None, "right-token") as served:
        url = f"http://127.0.0.1:{served.port}"
        assert httpx.get(f"{url}/metrics").status_code == 401
        answer = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer right-token"})
        assert answer.status_code == 200
        assert "cctag_cc_requests_total" in answer.text
        assert httpx.get(f"{url}/other").status_code == 404
