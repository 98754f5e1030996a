"""Bad input at the door (issue 17, item 5): the signature is checked before the body is read,
and no malformed body, header or timestamp gets a 500 or a traceback."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from urllib.parse import quote

import httpx
import pytest

from bot.devkit.local_slack import signed_headers
from tests.support.slack import SECRET, Bot, text_of

FORM = "application/x-www-form-urlencoded"
BODIES: dict[str, str] = {
    "empty": "",
    "payload not JSON": "payload=" + quote("{not json"),
    "payload a JSON string": "payload=" + quote(json.dumps("hello")),
    "payload a JSON list": "payload=" + quote(json.dumps([1, 2])),
    "payload without type": "payload=" + quote(json.dumps({"team": {"id": "T0001"}})),
    "payload null": "payload=null",
    "bad percent encoding": "command=%2Fcctag&text=%E0%A4%A&team_id=%ZZ",
    "not UTF-8": "command=/cctag&text=\udcff",
    "JSON body as form": json.dumps({"type": "event_callback", "event": None}),
    "JSON url_verification without challenge": json.dumps({"type": "url_verification"}),
    "command without team": "command=%2Fcctag&text=help",
    "two payloads": "payload=%7B%7D&payload=%7B%7D",
    "nested garbage": "payload=" + quote(json.dumps({"type": "block_actions", "actions": "x"})),
    "view submission without view": "payload="
    + quote(json.dumps({"type": "view_submission", "team": {"id": "T0001"}, "user": None})),
}
CONTENT_TYPES = (FORM, "application/json", "text/plain")


def _send(bot: Bot, body: bytes, headers: Mapping[str, str]) -> int:
    raw = [(k.encode(), v.encode("utf-8")) for k, v in headers.items()]  # as bytes: "é" too
    return httpx.post(bot.local.url, content=body, headers=raw, timeout=10).status_code


def _encoded(body: str) -> bytes:
    return body.encode("utf-8", "surrogateescape")


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_malformed_signed_bodies_never_answer_500(bot: Bot, content_type: str) -> None:
    answers = {}
    for name, body in BODIES.items():
        headers = signed_headers(SECRET, _encoded(body).decode("utf-8", "replace"))
        if "\udcff" in body:  # sign the bytes as sent
            headers = signed_headers(SECRET, body.encode("utf-8", "replace").decode())
        headers["Content-Type"] = content_type
        answers[name] = _send(bot, _encoded(body), headers)
    assert [(n, s) for n, s in answers.items() if s >= 500] == []
    assert all(status < 500 for status in answers.values())


def test_malformed_unsigned_bodies_and_headers_answer_401_before_any_parse(bot: Bot) -> None:
    answers = []
    body = bot.local.command_body("help", user="U0001", channel="C0001", key="u")
    good = signed_headers(SECRET, body)
    headers_tried = [
        {},
        {"X-Slack-Request-Timestamp": "garbage", "X-Slack-Signature": good["X-Slack-Signature"]},
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": good["X-Slack-Signature"]},
        {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0="},
        {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "garbage"},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=é"},
        {"X-Slack-Request-Timestamp": good["X-Slack-Request-Timestamp"]},
    ]
    for headers in headers_tried:
        for raw in [body, *BODIES.values()]:
            answers.append(_send(bot, _encoded(raw), {"Content-Type": FORM, **headers}))
    assert set(answers) == {401}
    assert bot.responses("u") == []


def test_a_huge_body_is_refused_without_being_read_as_a_request(bot: Bot) -> None:
    huge = "command=%2Fcctag&text=" + "x" * (3 * 1024 * 1024)
    assert _send(bot, huge.encode(), {"Content-Type": FORM, **signed_headers(SECRET, huge)}) == 413
    assert _send(bot, huge.encode(), {"Content-Type": FORM}) in (401, 413)
    assert bot.local.command("help", key="after").status_code == 200


def test_invisible_and_direction_changing_names_are_refused_in_words(bot: Bot) -> None:
    tags_before = len(bot.sandbox.state.account().tags)
    blank = text_of(bot.command("create \u200b\u3164", "inv1"))
    assert "A tag name needs at least one visible character" in blank
    flipped = text_of(bot.command("create VIP\u202egpj.exe", "inv2"))
    assert "cannot hold control characters" in flipped and "U+202E" in flipped
    renamed = text_of(bot.command("rename VIP --to VIP\u200b", "inv3"))
    assert "U+200B" in renamed
    assert len(bot.sandbox.state.account().tags) == tags_before
    assert bot.sandbox.state.account().tag_by_name("VIP") is not None
