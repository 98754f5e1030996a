"""What the poller says in an activity's thread: text plus Block Kit blocks (slack_sdk models)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.store import TrackedActivity
from bot.usecases.parent import parent_message

BAR_WIDTH = 20
MAX_ERRORS_SHOWN = 10
MAX_ERROR_LENGTH = 300
GIVEN_UP = "given_up"

NEXT_STEPS = {
    "failed": "Check the errors above, correct the request and run it again.",
    "cancelled": "It was cancelled in Constant Contact; run the command again if it is still "
    "needed.",
    "timed_out": "Constant Contact ran out of time; run it again, or split it into smaller "
    "requests.",
}


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[dict[str, Any]]


def _message(text: str, *, context: str | None = None) -> Message:
    blocks: list[Any] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
    return Message(text=text, blocks=[block.to_dict() for block in blocks])


def progress_bar(percent: int) -> str:
    filled = round(BAR_WIDTH * max(0, min(percent, 100)) / 100)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def _items(tracked: TrackedActivity) -> str:
    total, done = tracked.items_total_count, tracked.items_completed_count
    if total is None:
        return ""
    return f"{done or 0} of {total} items"


def progress(tracked: TrackedActivity) -> Message:
    percent = tracked.percent_done or 0
    items = _items(tracked)
    text = f"`{progress_bar(percent)}` {percent}% ({tracked.state})" + (
        f", {items}" if items else ""
    )
    return _message(text, context=f"Activity `{tracked.activity_id}`: {tracked.summary}")


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
    if state == "completed":
        return _completed(tracked, now)
    if state in NEXT_STEPS:
        return _ended_badly(tracked)
    return _message(f"Activity `{tracked.activity_id}` is now *{state}*.", context=tracked.summary)


def _completed(tracked: TrackedActivity, now: datetime) -> Message:
    items = _items(tracked) or "all items"
    lists = f" across {tracked.list_count} lists" if tracked.list_count else ""
    text = (
        f"<@{tracked.requester_id}> *completed*: {tracked.summary}. {items} done{lists} "
        f"in {duration(tracked.created_at, now)}."
    )
    return _message(text, context=f"Activity `{tracked.activity_id}`")


def _ended_badly(tracked: TrackedActivity) -> Message:
    errors = [e[:MAX_ERROR_LENGTH] for e in tracked.activity_errors[:MAX_ERRORS_SHOWN]]
    more = len(tracked.activity_errors) - len(errors)
    listed = "\n".join(f"• {e}" for e in errors) or "• Constant Contact gave no reason."
    if more > 0:
        listed += f"\n• … and {more} more"
    text = (
        f"<@{tracked.requester_id}> *{tracked.state}*: {tracked.summary}.\n{listed}\n"
        f"{NEXT_STEPS[tracked.state]}"
    )
    return _message(text, context=f"Activity `{tracked.activity_id}`")


def given_up(tracked: TrackedActivity, max_age: timedelta) -> Message:
    hours = max_age.total_seconds() / 3600
    text = (
        f"<@{tracked.requester_id}> I stopped following activity `{tracked.activity_id}` "
        f"after {hours:g} hours; it was last seen *{tracked.state}*. "
        f"Check it later with `/cctag status {tracked.activity_id}`."
    )
    return _message(text, context=tracked.summary)


def parent_final(tracked: TrackedActivity, *, gave_up: bool) -> Message:
    state = "no longer followed" if gave_up else tracked.state
    drawn = parent_message(tracked.requester_id, tracked.summary, state, tracked.activity_id)
    return _message(drawn.text, context=drawn.note)
