"""The /cctag commands as units: each module declares its commands (grammar, permission, help
lines, what it runs); REGISTRY is what the help text, the parser and every front end read.

Adding a command: write its `Command` in a module here (or in an existing family), list the
module in `_FAMILIES`, and test it. Slack and the shell pick it up with no change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.usecases.commands.command import Command

if TYPE_CHECKING:
    from bot.usecases.requests import Turn

__all__ = ["HELP_TEXT", "REGISTRY", "Command"]

SOURCES_HELP = (
    "<source> is one of `--contacts <email or id>[, ...]`, `--lists <list>[, ...]`, "
    "`--tags <tag>[, ...]`, `--all-active`, `--new-subscribers`, `--segment <name or id>`, or "
    "who did what in a campaign (above); `/cctag lists` also takes "
    "`--engagement <unqualified|low|medium|high>`. "
    'Quote a name that holds a comma: `"Donor, 2025"`.'
)


def _registry(families: Iterable[Iterable[Command]]) -> dict[str, Command]:
    found: dict[str, Command] = {}
    for family in families:
        for command in family:
            assert command.name not in found, f"two commands named {command.name}"
            found[command.name] = command
    return found


def help_text(commands: Iterable[Command]) -> str:
    lines = ["*cctag* manages Constant Contact tags and bulk contact activities."]
    lines += [f"• {line}" for command in commands for line in command.help]
    return "\n".join([*lines, SOURCES_HELP])


def _help(turn: Turn, rest: str) -> None:
    from bot.usecases.ports import Message

    turn.say(Message(HELP_TEXT))


HELP = Command("help", (), _help)


def _families() -> list[Iterable[Command]]:
    from bot.usecases.commands import (
        approvals,
        budget,
        bulk,
        connect,
        merge,
        rules,
        show,
        tags,
        undo,
    )

    return [
        (HELP,),
        tags.COMMANDS,
        show.COMMANDS,
        bulk.COMMANDS,
        merge.COMMANDS,
        approvals.COMMANDS,
        rules.COMMANDS,
        undo.COMMANDS,
        connect.COMMANDS,
        budget.COMMANDS,
    ]


REGISTRY: dict[str, Command] = _registry(_families())
HELP_TEXT = help_text(REGISTRY.values())
