"""How the poller reads Slack's errors: pass (when, in any header case) or give up."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.poller.failures import Outcome, classify


def slack_error(status: int, error: str, headers: dict[str, str] | None = None) -> SlackApiError:
    response = SlackResponse(
        client=WebClient(),
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("refused", response)


@pytest.mark.parametrize("name", ["Retry-After", "retry-after", "RETRY-AFTER"])
def test_retry_after_is_read_in_any_case(name: str) -> None:
    failure = classify(slack_error(429, "ratelimited", {name: "20"}))
    assert failure.outcome is Outcome.RETRY and failure.retry_after == 20.0 and failure.refused


@pytest.mark.parametrize(
    "error",
    [
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "invalid_blocks",
        "msg_too_long",
        "missing_scope",
        "account_inactive",
        "token_revoked",
    ],
)
def test_errors_that_will_not_pass_give_the_thread_up(error: str) -> None:
    assert classify(slack_error(200, error)).outcome is Outcome.GIVE_UP


def test_server_errors_and_dropped_connections_pass_and_may_have_landed() -> None:
    server = classify(slack_error(503, "service_unavailable"))
    assert server.outcome is Outcome.RETRY and not server.refused
    dropped = classify(ConnectionResetError())
    assert dropped.outcome is Outcome.RETRY and not dropped.refused
    assert classify(slack_error(429, "ratelimited", {"Retry-After": "soon"})).retry_after is None


@pytest.mark.parametrize(
    "error", ["message_not_found", "cant_update_message", "edit_window_closed"]
)
def test_a_message_gone_or_frozen_ends_its_edits_not_its_thread(error: str) -> None:
    failure = classify(slack_error(200, error))
    assert failure.outcome is Outcome.GONE and failure.refused
