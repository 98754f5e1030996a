"""The one drawing of a request's parent message, for the launch and for the poller's last word."""

from __future__ import annotations

from bot.slack.mrkdwn import escape, fit
from bot.usecases.ports import Message

# A summary names every tag and list; the parent shows its start and always its id and state.
MAX_SUMMARY = 1000


def parent_message(
    requester_id: str, summary: str, state: str, activity_id: str | None = None
) -> Message:
    ident = f" Activity `{escape(activity_id)}`:" if activity_id else ""
    tail = f".{ident} *{escape(state)}*"
    return Message(fit(f"<@{requester_id}> asked to {_summary(summary)}", tail))


def parent_failed(requester_id: str, summary: str, why: str) -> Message:
    why = fit(escape(why), limit=MAX_SUMMARY)
    return Message(f"<@{requester_id}> asked to {_summary(summary)}. *Not started*: {why}")


def _summary(summary: str) -> str:
    return fit(escape(summary), limit=MAX_SUMMARY)


def job_parent(requester_id: str, summary: str, state: str, job_id: str) -> Message:
    """A job's parent: the request, and always the job's id and state."""
    tail = f". Job `{escape(job_id)}`: *{escape(state)}*"
    return Message(fit(f"<@{requester_id}> asked to {_summary(summary)}", tail))
