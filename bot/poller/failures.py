"""What a failed Slack call means for an activity's thread: try again later, or give up on it.

Slack answers some errors that pass (`ratelimited` with HTTP 429 and `Retry-After`, 5xx, a
dropped connection) and some that never will (`not_in_channel`, `is_archived`, a revoked
token, blocks Slack will not take). Retrying the second kind would poll Constant Contact for
nothing until the activity is a day old, so the poller gives the thread up instead. A message
that is gone or can no longer change (`message_not_found` after someone deleted it,
`cant_update_message`, `edit_window_closed`) only ends that message's edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_sdk.errors import SlackApiError

PERMANENT = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "invalid_blocks",
        "msg_too_long",
        "missing_scope",
        "account_inactive",
        "token_revoked",
        "invalid_auth",
        "not_authed",
        "thread_not_found",
    }
)
# The message is gone or frozen: editing it again can never work, but the thread may go on.
GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# The requester cannot be told by DM either: the workspace's token is what Slack refuses.
WORKSPACE_WIDE = frozenset({"account_inactive", "token_revoked", "invalid_auth", "not_authed"})
TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class Outcome(StrEnum):
    RETRY = "retry"
    GIVE_UP = "give_up"
    GONE = "gone"


@dataclass(frozen=True)
class Failure:
    outcome: Outcome
    error: str
    retry_after: float | None = None  # seconds Slack asked us to wait, if it said
    refused: bool = False  # Slack answered and did nothing: a post was certainly not made


def _header(headers: Any, name: str) -> str | None:
    """A header by name in any case (`Retry-After`, `retry-after`, ...)."""
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name:
            return str(value[0] if isinstance(value, list) and value else value)
    return None


def _retry_after(headers: Any) -> float | None:
    value = _header(headers, "retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def classify(exc: BaseException) -> Failure:
    """Any exception from the Slack side of one activity's work, as the poller should treat it."""
    if not isinstance(exc, SlackApiError):
        # A dropped connection, a timeout or a bug: maybe sent, so a later cycle reads back first.
        return Failure(Outcome.RETRY, type(exc).__name__)
    status = exc.response.status_code
    error = str(exc.response.get("error") or f"http_{status}")
    if status == 429 or error == "ratelimited":
        return Failure(Outcome.RETRY, "ratelimited", _retry_after(exc.response.headers), True)
    if status >= 500 or error in TRANSIENT:
        return Failure(Outcome.RETRY, error, _retry_after(exc.response.headers))
    if error in PERMANENT:
        return Failure(Outcome.GIVE_UP, error, refused=True)
    if error in GONE:
        return Failure(Outcome.GONE, error, refused=True)
    return Failure(Outcome.RETRY, error, refused=True)
