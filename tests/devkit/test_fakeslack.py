"""The strict fake Slack refuses what Slack refuses, and agrees with slack_sdk's own models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackObjectFormationError
from slack_sdk.models.blocks import Block
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.clock import FakeClock
from bot.devkit.fakeslack import FakeSlack, FakeSlackServer
from bot.devkit.fakeslack.limits import SlackRefusal, check_blocks, check_options_answer
from bot.devkit.local_slack import LocalSlack
from bot.devkit.threaded_server import ThreadedServer

CHANNEL = "C0TEST"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock: FakeClock) -> Iterator[FakeSlackServer]:
    with FakeSlackServer(FakeSlack(clock=clock)) as running:
        yield running


@pytest.fixture
def client(server: FakeSlackServer) -> WebClient:
    return WebClient(token="xoxb-test", base_url=server.api_url)


def refused(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def modal(**fields: Any) -> dict[str, Any]:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Add a tag"},
        "blocks": [section("hello")],
    }
    return view | fields


# Blocks nobody here wrote the verdict for: slack_sdk's models decide, the fake must agree.
SDK_CASES = [
    section("x" * 3000),
    section("x" * 3001),
    {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
    {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
    {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b" * 76}}
        ],
    },
    {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "ok"}}
        ],
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
    {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "pick"},
        "accessory": {
            "type": "static_select",
            "action_id": "s",
            "options": [
                {"text": {"type": "plain_text", "text": f"o{i}"}, "value": str(i)}
                for i in range(101)
            ],
        },
    },
]


def sdk_accepts(block: dict[str, Any]) -> bool:
    try:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.to_dict()
    except SlackObjectFormationError:
        return False
    return True


@pytest.mark.parametrize("block", SDK_CASES)
def test_the_fake_agrees_with_slack_sdks_block_models(client: WebClient, block: Any) -> None:
    def post() -> Any:
        return client.chat_postMessage(channel=CHANNEL, text="t", blocks=[block])

    if sdk_accepts(block):
        assert post()["ok"]
    else:
        assert refused(post).response["error"] == "invalid_blocks"


def test_context_text_past_3000_is_refused_though_slack_sdk_lets_it_through(
    client: WebClient,
) -> None:
    assert sdk_accepts(context("x" * 3001)), "slack_sdk misses this one"
    error = refused(
        lambda: client.chat_postMessage(channel=CHANNEL, text="t", blocks=[context("x" * 3001)])
    )
    assert error.response["error"] == "invalid_blocks"
    assert client.chat_postMessage(channel=CHANNEL, text="t", blocks=[context("x" * 3000)])["ok"]


def test_a_message_holds_50_blocks_and_its_text_is_cut_at_40000(
    client: WebClient, server: FakeSlackServer
) -> None:
    error = refused(
        lambda: client.chat_postMessage(channel=CHANNEL, text="t", blocks=[section("b")] * 51)
    )
    assert error.response["error"] == "invalid_blocks"
    posted = client.chat_postMessage(channel=CHANNEL, text="y" * 45_000, blocks=[section("b")] * 50)
    assert len(server.fake.message(CHANNEL, posted["ts"]).text) == 40_000
    edit = refused(
        lambda: client.chat_update(channel=CHANNEL, ts=posted["ts"], blocks=[section("z" * 3001)])
    )
    assert edit.response["error"] == "invalid_blocks"
    ephemeral = refused(
        lambda: client.chat_postEphemeral(
            channel=CHANNEL, user="U1", text="t", blocks=[context("z" * 3001)]
        )
    )
    assert ephemeral.response["error"] == "invalid_blocks"


def test_trigger_ids_are_issued_by_the_fake_work_once_and_for_three_seconds(
    client: WebClient, server: FakeSlackServer, clock: FakeClock
) -> None:
    unknown = refused(lambda: client.views_open(trigger_id="made-up", view=modal()))
    assert unknown.response["error"] == "invalid_trigger_id"
    trigger = server.issue_trigger()
    assert client.views_open(trigger_id=trigger, view=modal())["ok"]
    again = refused(lambda: client.views_open(trigger_id=trigger, view=modal()))
    assert again.response["error"] == "invalid_trigger_id"
    late = server.issue_trigger()
    clock.advance(3.01)
    expired = refused(lambda: client.views_open(trigger_id=late, view=modal()))
    assert expired.response["error"] == "expired_trigger_id"
    push = refused(lambda: client.views_push(trigger_id="made-up", view=modal()))
    assert push.response["error"] == "invalid_trigger_id"


@pytest.mark.parametrize(
    "view",
    [
        modal(title={"type": "plain_text", "text": "t" * 25}),
        modal(submit={"type": "plain_text", "text": "s" * 25}),
        modal(private_metadata="m" * 3001),
        modal(blocks=[section("b")] * 101),
        modal(blocks=[context("c" * 3001)]),
        modal(blocks=[section("s" * 3001)]),
        modal(blocks=[section("x" * 2900)] * 90),  # over 250 kB
    ],
)
def test_views_past_their_limits_are_refused(
    client: WebClient, server: FakeSlackServer, view: dict[str, Any]
) -> None:
    error = refused(lambda: client.views_open(trigger_id=server.issue_trigger(), view=view))
    assert error.response["error"] == "invalid_arguments"
    published = refused(lambda: client.views_publish(user_id="U1", view=view | {"type": "home"}))
    assert published.response["error"] == "invalid_arguments"


def test_a_post_to_a_user_answers_the_dm_id_which_later_calls_need(
    client: WebClient, server: FakeSlackServer
) -> None:
    posted = client.chat_postMessage(channel="U0PERSON", text="hello")
    assert posted["channel"] == "D0PERSON"
    ts = posted["ts"]
    for call in (
        lambda: client.chat_update(channel="U0PERSON", ts=ts, text="edited"),
        lambda: client.conversations_replies(channel="U0PERSON", ts=ts),
        lambda: client.chat_delete(channel="U0PERSON", ts=ts),
    ):
        assert refused(call).response["error"] == "channel_not_found"
    assert client.chat_update(channel="D0PERSON", ts=ts, text="edited")["ok"]
    assert server.fake.message("D0PERSON", ts).text == "edited"
    assert client.chat_delete(channel="D0PERSON", ts=ts)["ok"]


def test_replies_come_15_a_page_with_a_cursor(client: WebClient, clock: FakeClock) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="parent")["ts"]
    for number in range(39):
        clock.advance(1)  # Slack's pace: 1 post a second in a channel
        client.chat_postMessage(channel=CHANNEL, thread_ts=parent, text=f"reply {number}")
    pages, cursor = [], None
    while True:
        clock.advance(60)  # and 1 thread read a minute
        page = client.conversations_replies(channel=CHANNEL, ts=parent, limit=200, cursor=cursor)
        pages.append(len(page["messages"]))
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page["has_more"]:
            break
    assert pages == [15, 15, 10]
    clock.advance(60)
    newest = client.conversations_replies(
        channel=CHANNEL, ts=parent, oldest=page["messages"][-3]["ts"]
    )
    assert [m["text"] for m in newest["messages"]] == ["reply 37", "reply 38"]


def test_replies_at_one_a_minute_when_told(clock: FakeClock) -> None:
    with FakeSlackServer(FakeSlack(clock=clock, replies_per_minute=1)) as server:
        client = WebClient(token="xoxb-test", base_url=server.api_url)
        parent = client.chat_postMessage(channel=CHANNEL, text="parent")["ts"]
        assert client.conversations_replies(channel=CHANNEL, ts=parent)["ok"]
        clock.advance(20)
        limited = refused(lambda: client.conversations_replies(channel=CHANNEL, ts=parent))
        assert limited.response.status_code == 429
        assert limited.response.headers["retry-after"] == "40"
        clock.advance(40)
        assert client.conversations_replies(channel=CHANNEL, ts=parent)["ok"]


def test_faults_per_channel_and_method(client: WebClient, server: FakeSlackServer) -> None:
    fake = server.fake
    for fault in ("not_in_channel", "is_archived", "channel_not_found"):
        fake.fault_channel("C0BAD", fault)
        error = refused(lambda: client.chat_postMessage(channel="C0BAD", text="t"))
        assert error.response["error"] == fault
    fake.fault_channel("C0BAD", None)
    assert client.chat_postMessage(channel="C0BAD", text="t")["ok"]

    fake.rate_limit("chat.postMessage", times=2, retry_after=20, channel="C0SLOW")
    assert client.chat_postMessage(channel=CHANNEL, text="other channels are served")["ok"]
    for _ in range(2):
        limited = refused(lambda: client.chat_postMessage(channel="C0SLOW", text="t"))
        assert limited.response.status_code == 429
        assert limited.response.headers["Retry-After"] == "20"
    assert client.chat_postMessage(channel="C0SLOW", text="t")["ok"]

    fake.fail("chat.update", "msg_too_long")
    ts = client.chat_postMessage(channel=CHANNEL, text="t")["ts"]
    error = refused(lambda: client.chat_update(channel=CHANNEL, ts=ts, text="t"))
    assert error.response["error"] == "msg_too_long"


def test_a_response_url_takes_five_checked_posts(server: FakeSlackServer) -> None:
    url = server.response_url("key")
    bad = httpx.post(url, json={"text": "t", "blocks": [context("x" * 3001)]})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_blocks"
    for number in range(5):
        assert httpx.post(url, json={"text": f"post {number}"}).status_code == 200
    sixth = httpx.post(url, json={"text": "one too many"})
    assert sixth.status_code == 404 and sixth.json()["error"] == "used_url"
    assert len([key for key, _ in server.fake.responses if key == "key"]) == 5


def test_a_response_url_expires_after_30_minutes(server: FakeSlackServer, clock: FakeClock) -> None:
    url = server.response_url("late")
    assert httpx.post(url, json={"text": "first"}).status_code == 200
    clock.advance(30 * 60 + 1)
    assert httpx.post(url, json={"text": "late"}).json()["error"] == "expired_url"


def option(text: str, value: str = "v") -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def test_options_answers_hold_100_options_of_75_and_150() -> None:
    assert check_options_answer({"options": [option(f"o{i}") for i in range(100)]})
    answers: list[dict[str, Any]] = [
        {"options": [option(f"o{i}") for i in range(101)]},
        {"options": [option("t" * 76)]},
        {"options": [option("t", "v" * 151)]},
        {"nothing": []},
    ]
    for answer in answers:
        with pytest.raises(SlackRefusal) as caught:
            check_options_answer(answer)
        assert caught.value.error == "invalid_arguments"


def test_relaxing_one_rule_leaves_the_others(client: WebClient, server: FakeSlackServer) -> None:
    server.fake.relax("dm_channel")
    ts = client.chat_postMessage(channel="U0PERSON", text="hello")["ts"]
    assert client.chat_update(channel="U0PERSON", ts=ts, text="edited")["ok"]
    assert server.fake.message("D0PERSON", ts).text == "edited"
    assert (
        refused(lambda: client.views_open(trigger_id="x", view=modal())).response["error"]
        == "invalid_trigger_id"
    )
    with pytest.raises(SlackRefusal):
        check_blocks([section("x" * 3001)])


def test_local_slack_refuses_an_options_answer_slack_would_not_show(
    server: FakeSlackServer,
) -> None:
    count = {"options": 100}

    async def answer(request: Request) -> JSONResponse:
        return JSONResponse({"options": [option(f"o{i}") for i in range(count["options"])]})

    app = Starlette(routes=[Route("/slack/events", answer, methods=["POST"])])
    with ThreadedServer(app) as bot:
        local = LocalSlack(f"{bot.url}/slack/events", "secret", server.response_url)
        assert len(local.options("tag_select", "o").json()["options"]) == 100
        count["options"] = 101
        with pytest.raises(SlackRefusal):
            local.options("tag_select", "o")


def test_posts_in_a_channel_keep_slacks_pace_on_the_fakes_clock(
    client: WebClient, server: FakeSlackServer, clock: FakeClock
) -> None:
    for number in range(4):  # a short burst is allowed
        client.chat_postMessage(channel=CHANNEL, text=f"burst {number}")
    limited = refused(lambda: client.chat_postMessage(channel=CHANNEL, text="one too many"))
    assert limited.response.status_code == 429 and limited.response["error"] == "ratelimited"
    assert limited.response.headers["retry-after"] == "1"
    assert client.chat_postMessage(channel="C0OTHER", text="another channel")["ok"]
    clock.advance(1)
    assert client.chat_postMessage(channel=CHANNEL, text="a second later")["ok"]
    assert len(server.fake.channel_messages(CHANNEL)) == 5 and len(server.fake.limited) == 1


def test_edits_are_50_a_minute_per_workspace(
    client: WebClient, server: FakeSlackServer, clock: FakeClock
) -> None:
    ts = []
    for number in range(50):
        clock.advance(1)
        ts.append(client.chat_postMessage(channel=f"C0E{number:02d}", text="x")["ts"])
    clock.advance(60)
    for number, at in enumerate(ts):
        assert client.chat_update(channel=f"C0E{number:02d}", ts=at, text="edited")["ok"]
    clock.advance(30)
    limited = refused(lambda: client.chat_update(channel="C0E00", ts=ts[0], text="51st"))
    assert limited.response.status_code == 429
    assert limited.response.headers["retry-after"] == "30"
    clock.advance(30)
    assert client.chat_update(channel="C0E00", ts=ts[0], text="a minute on")["ok"]


def test_thread_reads_are_1_a_minute_by_default(
    client: WebClient, server: FakeSlackServer, clock: FakeClock
) -> None:
    parent = client.chat_postMessage(channel=CHANNEL, text="parent")["ts"]
    assert client.conversations_replies(channel=CHANNEL, ts=parent)["ok"]
    assert (
        refused(
            lambda: client.conversations_replies(channel=CHANNEL, ts=parent)
        ).response.status_code
        == 429
    )
    clock.advance(60)
    assert client.conversations_replies(channel=CHANNEL, ts=parent)["ok"]


def test_a_test_may_relax_slacks_rate_limits_and_say_why(
    client: WebClient, server: FakeSlackServer
) -> None:
    server.fake.relax("rate_limits")  # this test checks that relaxing works, nothing else
    for number in range(20):
        client.chat_postMessage(channel=CHANNEL, text=f"{number}")
    assert server.fake.limited == []


def test_users_info_answers_the_zone_as_of_now_and_wants_users_read() -> None:
    from datetime import UTC, datetime

    clock = FakeClock(datetime(2026, 3, 28, 12, tzinfo=UTC))
    fake = FakeSlack(clock=clock)
    with FakeSlackServer(fake) as server:
        client = WebClient(token="xoxb", base_url=server.api_url)
        fake.add_user("U1", tz="Europe/Paris")
        winter = client.users_info(user="U1")["user"]
        assert (winter["tz"], winter["tz_offset"]) == ("Europe/Paris", 3600)
        assert winter["tz_label"] == "Central European Time"
        clock.advance(2 * 24 * 3600)  # past the change to summer time
        summer = client.users_info(user="U1")["user"]
        assert (summer["tz_offset"], summer["tz_label"]) == (7200, "Central European Summer Time")
        with pytest.raises(SlackApiError, match="user_not_found"):
            client.users_info(user="U404")
        fake.scopes = {"commands", "chat:write"}
        with pytest.raises(SlackApiError, match="missing_scope"):
            client.users_info(user="U1")
