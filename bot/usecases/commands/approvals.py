"""approve and deny: a decision on a request that waits for an approver (bot/usecases/
approvals.py). Slack's `Approve` and `Deny` buttons and the shell come here too, as lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.usecases.commands.command import Command
from bot.usecases.grammar import parse_approve, parse_deny

if TYPE_CHECKING:
    from bot.usecases.requests import Turn


def _approve(turn: Turn, rest: str) -> None:
    turn.pipeline.approve(turn, parse_approve(rest))


def _deny(turn: Turn, rest: str) -> None:
    ident, reason = parse_deny(rest)
    turn.say(turn.pipeline.approvals_or_refuse().deny(turn.actor, ident, reason))


COMMANDS = (
    Command(
        "approve",
        (
            "`/cctag approve <id>` / `/cctag deny <id> <reason>`: decide a request that waits "
            "for an approver (for those with the right; never one's own)",
        ),
        _approve,
    ),
    Command("deny", (), _deny),
)
