"""What the poller says in an activity's thread: text plus Block Kit blocks (slack_sdk models).

Summaries, tag and list names and Constant Contact's error texts are not ours: they are escaped
before they reach mrkdwn, so none of them pings or links anyone, and every text is fitted
within Slack's 3,000 characters with the activity's id always shown (bot/mrkdwn.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.cc.budget import BudgetSpent
from bot.cc.models import ActivityKind
from bot.mrkdwn import MAX_SECTION, escape, fit, safe
from bot.store import TrackedActivity
from bot.store.jobs import Job
from bot.usecases.jobs import JobProgress
from bot.usecases.parent import job_parent, parent_message
from bot.usecases.undo import UNDO_BUTTON

BAR_WIDTH = 20
MAX_ERROR_LENGTH = 300
MAX_SUMMARY = 1000  # a summary names every tag and list: a thread reply shows its start
GIVEN_UP = "given_up"
LOST = "lost"  # Constant Contact answers 404 for the activity
WAITING = "waiting"  # for the API key's budget: `waiting:<the day it resets>`
COMPLETED = "completed"

NEXT_STEPS = {
    "failed": "Check the errors above, correct the request and run it again.",
    "cancelled": "It was cancelled in Constant Contact; run the command again if it is still "
    "needed.",
    "timed_out": "Constant Contact ran out of time; run it again, or split it into smaller "
    "requests.",
}

# What the requester is told when the poller stops writing to the thread, by Slack's error.
THREAD_LOST = {
    "not_in_channel": "I am not in that channel any more: invite me with `/invite @cctag`",
    "is_archived": "the channel is archived",
    "channel_not_found": "I cannot see that channel any more",
    "thread_not_found": "the request's message was deleted",
    "missing_scope": "the app lacks a permission it needs there; ask an admin to reinstall it",
    "invalid_blocks": "Slack refused the message I meant to post",
    "msg_too_long": "Slack refused the message I meant to post as too long",
}


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[dict[str, Any]]


def _message(text: str, *, context: str | None = None) -> Message:
    """`text` and `context` are mrkdwn already escaped; each is fitted to its block's limit."""
    text = fit(text)
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=fit(context))]))
    return Message(text=text, blocks=[block.to_dict() for block in blocks])


def _summary(tracked: TrackedActivity, limit: int = MAX_SUMMARY) -> str:
    return fit(escape(tracked.summary), limit=limit)


def _id(tracked: TrackedActivity) -> str:
    return f"activity `{escape(tracked.activity_id)}`"


def progress_bar(percent: int) -> str:
    filled = round(BAR_WIDTH * max(0, min(percent, 100)) / 100)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def _items(tracked: TrackedActivity) -> str:
    total, done = tracked.items_total_count, tracked.items_completed_count
    if total is None:
        return ""
    return f"{done or 0} of {total} items"


def done_percent(tracked: TrackedActivity) -> int | None:
    """How much was done: a failed activity's 100% only means Constant Contact stopped."""
    if tracked.state in NEXT_STEPS:
        total, done = tracked.items_total_count, tracked.items_completed_count
        return (done or 0) * 100 // total if total else None
    return tracked.percent_done or 0


def progress(tracked: TrackedActivity) -> Message:
    percent = done_percent(tracked)
    items = _items(tracked)
    shown = f"`{progress_bar(percent)}` {percent}%" if percent is not None else "Stopped"
    text = f"{shown} ({tracked.state})" + (f", {items}" if items else "")
    context = fit(_summary(tracked), f" · {_id(tracked)}")
    return _message(text, context=context)


def duration(start: datetime, end: datetime) -> str:
    seconds = max(0, round((end - start).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


def state_reply(tracked: TrackedActivity, now: datetime) -> Message:
    """The reply for a change of state; its text names the state."""
    state = tracked.state
    if state == COMPLETED:
        return with_undo(_completed(tracked, now), tracked.kind, tracked.activity_id, True)
    if state in NEXT_STEPS:
        done = bool(tracked.items_completed_count)  # partly done
        return with_undo(_ended_badly(tracked), tracked.kind, tracked.activity_id, done)
    return _message(
        f"Activity `{escape(tracked.activity_id)}` is now *{escape(state)}*.",
        context=_summary(tracked),
    )


def _completed(tracked: TrackedActivity, now: datetime) -> Message:
    items = _items(tracked) or "all items"
    lists = f" across {tracked.list_count} lists" if tracked.list_count else ""
    text = (
        f"<@{tracked.requester_id}> *completed*: {_summary(tracked)}. {items} done{lists} "
        f"in {duration(tracked.created_at, now)}."
    )
    return _message(text, context=_id(tracked).capitalize())


def error_lines(errors: list[str], budget: int) -> str:
    """Constant Contact's errors as bullets, escaped, within `budget`, the rest counted."""
    if not errors:
        return "• Constant Contact gave no reason."
    lines: list[str] = []
    for index, error in enumerate(errors):
        line = f"• {fit(escape(error), limit=MAX_ERROR_LENGTH)}"
        left = len(errors) - index - 1
        more = f"\n• … and {left} more" if left else ""
        if len("\n".join([*lines, line])) + len(more) > budget:
            break
        lines.append(line)
    left = len(errors) - len(lines)
    return "\n".join([*lines, *([f"• … and {left} more"] if left else [])])


def _ended_badly(tracked: TrackedActivity) -> Message:
    head = f"<@{tracked.requester_id}> *{tracked.state}*: {_summary(tracked)}.\n"
    tail = f"\n{NEXT_STEPS[tracked.state]}"
    listed = error_lines(tracked.activity_errors, MAX_SECTION - len(head) - len(tail))
    return _message(head + listed + tail, context=_id(tracked).capitalize())


def given_up(tracked: TrackedActivity, max_age: timedelta) -> Message:
    hours = max_age.total_seconds() / 3600
    activity_id = escape(tracked.activity_id)
    text = (
        f"<@{tracked.requester_id}> I stopped following activity `{activity_id}` "
        f"after {hours:g} hours; it was last seen *{tracked.state}*. "
        f"Check it later with `/cctag status {activity_id}`."
    )
    return _message(text, context=_summary(tracked))


def _last_seen(tracked: TrackedActivity) -> str:
    items = _items(tracked)
    shown = f"{tracked.percent_done}%" if tracked.percent_done is not None else ""
    detail = ", ".join(part for part in (shown, items) if part)
    return f"*{escape(tracked.state)}*" + (f" ({detail})" if detail else "")


def waiting_for_budget(tracked: TrackedActivity, spent: BudgetSpent) -> Message:
    """Following waits for the API key's budget; it goes on by itself."""
    what = (
        "this workspace's share of today's Constant Contact calls is used up while other "
        "workspaces want calls"
        if spent.whose == "share"
        else "today's Constant Contact calls are all spent"
    )
    text = (
        f":hourglass: Waiting: {what}. Following this goes on by itself, at the latest after "
        f"{spent.reset_at:%H:%M} UTC when the budget resets; nothing needs doing."
    )
    return _message(text, context=_summary(tracked))


def job_waiting_for_budget(
    tracked: TrackedActivity, positions: list[int], parts: int, until: datetime, reset_at: datetime
) -> Message:
    """A job's parts parked for the API key's budget; the worker starts them by itself."""
    which = ", ".join(str(position + 1) for position in positions)
    when = (
        f"after {reset_at:%H:%M} UTC, when the budget resets"
        if until >= reset_at
        else "as soon as this workspace's share of the day frees up, at the latest after "
        f"{reset_at:%H:%M} UTC, when the budget resets"
    )
    text = (
        ":hourglass: Waiting: the day's Constant Contact calls ran out while this job was "
        f"starting. Part {which} of {parts} start by themselves {when}; the job goes on then "
        "and nothing needs doing."
    )
    return _message(text, context=fit(_job_summary(tracked), f" · {_job_id(tracked)}"))


def lost(tracked: TrackedActivity) -> Message:
    """Constant Contact no longer knows the activity (404): what was last seen, what to do."""
    activity_id = escape(tracked.activity_id)
    text = (
        f"<@{tracked.requester_id}> I lost track of activity `{activity_id}`: Constant Contact "
        f"no longer knows it (it keeps an activity's status for 10 days, and a restarted "
        f"sandbox forgets its activities). It was last seen {_last_seen(tracked)}. "
        "Check in Constant Contact whether the change was made, and run the command again "
        "if it was not."
    )
    return _message(text, context=_summary(tracked))


def parent_lost(tracked: TrackedActivity) -> Message:
    drawn = parent_message(tracked.requester_id, tracked.summary, "lost", tracked.activity_id)
    return _message(safe(drawn.text), context=drawn.note and safe(drawn.note))


def thread_lost(tracked: TrackedActivity, error: str) -> Message:
    """The DM telling the requester the poller can no longer write in the activity's thread."""
    why = THREAD_LOST.get(error, f"Slack answered `{escape(error)}`")
    activity_id = escape(tracked.activity_id)
    text = (
        f"I could not post the progress of {_id(tracked)} in <#{tracked.channel_id}>: {why}. "
        f"I stopped following it; check it with `/cctag status {activity_id}`."
    )
    return _message(text, context=_summary(tracked))


def plan_not_started(requester_id: str, summary: str) -> Message:
    """The DM for a plan whose launcher stopped before its parent message (and so before any
    step was sent)."""
    text = (
        f"<@{requester_id}> cctag stopped before it started your request, and nothing was "
        "sent for it to Constant Contact. Run it again when you want it."
    )
    return _message(text, context=fit(escape(summary), limit=MAX_SUMMARY))


def parent_final(tracked: TrackedActivity, *, gave_up: bool) -> Message:
    state = "no longer followed" if gave_up else tracked.state
    drawn = parent_message(tracked.requester_id, tracked.summary, state, tracked.activity_id)
    return _message(safe(drawn.text), context=drawn.note and safe(drawn.note))


# ---------------------------------------------------------------- jobs (all parts as one)


def _job_summary(tracked: TrackedActivity) -> str:
    """The job's summary (a part's row names its part at the end: dropped here)."""
    summary = tracked.summary.rsplit(" (part ", 1)[0]
    return fit(escape(summary), limit=MAX_SUMMARY)


def _job_id(tracked: TrackedActivity) -> str:
    return f"job `{escape(tracked.job_id or '?')}`"


def job_progress(tracked: TrackedActivity, progress: JobProgress) -> Message:
    """The one progress reply of a whole job, edited in place."""
    percent = progress.percent
    text = f"`{progress_bar(percent)}` {percent}% · " + escape(progress.text)
    return _message(text, context=fit(_job_summary(tracked), f" · {_job_id(tracked)}"))


def job_end(tracked: TrackedActivity, progress: JobProgress) -> Message:
    """The job's end, posted once: `completed`, or each state reached and what to do next."""
    ended = _message(
        f"<@{tracked.requester_id}> " + escape(progress.text),
        context=fit(_job_summary(tracked), f" · {_job_id(tracked)}"),
    )
    done = progress.completed or progress.items_done > 0
    return with_undo(ended, tracked.kind, tracked.job_id or "", done)


def with_undo(message: Message, kind: str, change_id: str, done: bool) -> Message:
    """The end of a change that touched contacts (completed, or partly done) offers `Undo`."""
    if not done or not change_id or kind not in tuple(ActivityKind):
        return message
    button = ButtonElement(text="Undo", action_id=UNDO_BUTTON, value=change_id)
    return Message(message.text, [*message.blocks, ActionsBlock(elements=[button]).to_dict()])


def job_parent_final(tracked: TrackedActivity, progress: JobProgress) -> Message:
    state = "completed" if progress.completed else "ended; see the thread"
    drawn = job_parent(
        tracked.requester_id, tracked.summary.rsplit(" (part ", 1)[0], state, tracked.job_id or "?"
    )
    return _message(safe(drawn.text), context=drawn.note and safe(drawn.note))


def plan_over(job: Job, progress: JobProgress) -> Message:
    """The end of a plan none of whose steps started, in words of each step's state."""
    context = fit(fit(escape(job.summary), limit=MAX_SUMMARY), f" · job `{escape(job.id)}`")
    return _message(f"<@{job.requester_id}> " + escape(progress.text), context=context)


def plan_over_parent(job: Job) -> Message:
    if len(job.parts) > 1:
        drawn = job_parent(job.requester_id, job.summary, "ended; see the thread", job.id)
    else:
        drawn = parent_message(job.requester_id, job.summary, "ended; see the thread")
    return _message(safe(drawn.text), context=drawn.note and safe(drawn.note))


def job_given_up(tracked: TrackedActivity, max_age: timedelta) -> Message:
    hours = max_age.total_seconds() / 3600
    job_id = escape(tracked.job_id or "?")
    text = (
        f"<@{tracked.requester_id}> I stopped following job `{job_id}` after {hours:g} hours, "
        f"before all its activities ended. Check it later with `/cctag status {job_id}`."
    )
    return _message(text, context=_job_summary(tracked))


def job_parent_gave_up(tracked: TrackedActivity) -> Message:
    summary = tracked.summary.rsplit(" (part ", 1)[0]
    drawn = job_parent(tracked.requester_id, summary, "no longer followed", tracked.job_id or "?")
    return _message(safe(drawn.text), context=drawn.note and safe(drawn.note))
