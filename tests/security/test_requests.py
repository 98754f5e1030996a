"""Requests to /slack/events must carry Slack's signature, made with our secret, just now."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.slack_harness import (
    SIGNING_SECRET,
    SlackHarness,
    signature_headers,
    slack_harness,
)


@pytest.fixture
def sh(database_url: str) -> Iterator[SlackHarness]:
    with slack_harness(database_url) as running:
        running.install("T0A", "xoxb-team-a")
        yield running


def test_a_signed_request_is_answered(sh: SlackHarness) -> None:
    assert sh.command("T0A").status_code == 200
    assert sh.seen_teams == ["T0A"]


def test_an_unsigned_request_is_refused(sh: SlackHarness) -> None:
    assert sh.command("T0A", signed=False).status_code == 401
    assert sh.seen_teams == []


def test_a_request_signed_with_another_secret_is_refused(sh: SlackHarness) -> None:
    assert sh.command("T0A", secret="not-our-secret").status_code == 401
    assert sh.seen_teams == []


def test_a_stale_request_is_refused(sh: SlackHarness) -> None:
    """Slack's replay window is five minutes; a correctly signed older request is refused."""
    assert sh.command("T0A", timestamp=int(time.time()) - 6 * 60).status_code == 401
    assert sh.seen_teams == []


def test_a_tampered_body_is_refused(sh: SlackHarness) -> None:
    body = "command=%2Fcctag&text=help&team_id=T0A&user_id=U0A&channel_id=C0A"
    headers = signature_headers(body, SIGNING_SECRET, int(time.time()))
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    tampered = body.replace("text=help", "text=delete+VIP")

    response = httpx.post(sh.url + "/slack/events", content=tampered, headers=headers)

    assert response.status_code == 401
    assert sh.seen_teams == []
