"""budget: the API key's day as this workspace sees it (bot/cc/budget.py), spending no call."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.cc.budget import BudgetView
from bot.usecases.commands.command import Command
from bot.usecases.outcomes import Refused, plural
from bot.usecases.ports import Message

if TYPE_CHECKING:
    from bot.usecases.requests import Turn

NOT_SHARED = "This deployment's Constant Contact budget is not shared fairly; nothing to show"


def until(reset_at: datetime, now: datetime) -> str:
    minutes = max(int((reset_at - now).total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else plural(minutes, "minute")


def budget_lines(view: BudgetView, now: datetime) -> list[str]:
    """The workspace's calls today, its share, what the key has left, when it resets."""
    sharing = (
        "it is the only workspace wanting calls"
        if view.workspaces_wanting == 1
        else f"shared with {plural(view.workspaces_wanting - 1, 'other workspace')} wanting calls"
    )
    return [
        f"• This workspace: *{plural(view.workspace_calls, 'call')}* today "
        f"({view.workspace_background:,} of them background work).",
        f"• Its share of today's background calls: *{view.workspace_share:,}* ({sharing}); "
        f"*{view.workspace_left:,}* left.",
        f"• The API key, for every workspace: *{view.key_left:,}* of its "
        f"{view.key_calls + view.key_left:,} calls left, {view.people_kept:,} of them kept "
        "for people waiting.",
        f"• It resets at *{view.reset_at:%H:%M} UTC*, in {until(view.reset_at, now)}.",
    ]


def budget_message(view: BudgetView, now: datetime) -> Message:
    lines = ["*Constant Contact calls today*", *budget_lines(view, now)]
    return Message("\n".join(lines), "People waiting go first; background work takes turns.")


def _budget(turn: Turn, rest: str) -> None:
    if rest.strip():
        raise Refused("`/cctag budget` takes nothing after it")
    view = turn.account().budget(turn.actor.workspace_id)
    if view is None:
        raise Refused(NOT_SHARED)
    turn.say(budget_message(view, turn.ops.store.clock.now()))


COMMANDS = (
    Command(
        "budget",
        (
            "`/cctag budget`: this workspace's Constant Contact calls today, its share, what "
            "the API key has left and when it resets",
        ),
        _budget,
        permission="budget",
    ),
)
