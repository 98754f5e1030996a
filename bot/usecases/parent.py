"""The one drawing of a request's parent message, for the launch and for the poller's last word.

Plain small markup (bot/usecases/ports.py `Message`): each front end escapes it as it renders.
The summary names every tag and list, so it is shortened here, where the id and the state
that follow it are known to stay whole.
"""

from __future__ import annotations

from bot.usecases.ports import Message

MAX_SUMMARY = 500  # characters of summary before "…"; escaped, it still fits a 3,000 section
ELLIPSIS = "…"


def parent_message(
    requester_id: str, summary: str, state: str, activity_id: str | None = None
) -> Message:
    ident = f" Activity `{activity_id}`:" if activity_id else ""
    return Message(f"<@{requester_id}> asked to {shortened(summary)}.{ident} *{state}*")


def parent_failed(requester_id: str, summary: str, why: str) -> Message:
    return Message(
        f"<@{requester_id}> asked to {shortened(summary)}. *Not started*: {shortened(why)}"
    )


def job_parent(requester_id: str, summary: str, state: str, job_id: str) -> Message:
    """A job's parent: the request, and always the job's id and state."""
    return Message(f"<@{requester_id}> asked to {shortened(summary)}. Job `{job_id}`: *{state}*")


def shortened(text: str, limit: int = MAX_SUMMARY) -> str:
    """`text` within `limit` characters, cut at a space where one is near, marked with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut) + ELLIPSIS
