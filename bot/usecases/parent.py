"""The one drawing of a request's parent message, for the launch and for the poller's last word."""

from __future__ import annotations

from bot.usecases.ports import Message


def parent_message(
    requester_id: str, summary: str, state: str, activity_id: str | None = None
) -> Message:
    ident = f" Activity `{activity_id}`:" if activity_id else ""
    return Message(f"<@{requester_id}> asked to {summary}.{ident} *{state}*")


def parent_failed(requester_id: str, summary: str, why: str) -> Message:
    return Message(f"<@{requester_id}> asked to {summary}. *Not started*: {why}")
