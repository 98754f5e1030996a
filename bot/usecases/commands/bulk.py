"""add, remove, delete, lists and unlists: parse → plan → confirm? → launch. With nothing after
the command, the front end asks for the rest (a modal in Slack, questions in the shell)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.usecases.commands.command import Command
from bot.usecases.grammar import parse_bulk_line

if TYPE_CHECKING:
    from bot.usecases.requests import Turn

SOURCE = "<source> [--exclude <email>[, ...]]"


def _bulk(name: str) -> Callable[[Turn, str], None]:
    def run(turn: Turn, rest: str) -> None:
        if not rest:
            turn.open_form(name)
            if name != "delete":  # its campaign menu answers from the cache
                turn.ops.sources.menus.warm(turn.actor.workspace_id, turn.account())
        else:
            turn.bulk(parse_bulk_line(name, rest), f"{name} {rest}", confirmed=turn.confirmed)

    return run


COMMANDS = (
    Command(
        "add",
        (
            "`/cctag add` / `/cctag remove`: add tags to contacts, or remove them (a form)",
            f"`/cctag add <tag>[, <tag>...] {SOURCE}`: the same in one line",
            "`<source>` may be who did what in a campaign: `--clicked <campaign> [--link <url>]`, "
            "`--opened <campaign>`, `--not-opened <campaign>`, `--bounced <campaign>`; or "
            "`--segment <name or id>`",
        ),
        _bulk("add"),
        permission="add",
        form="tagging",
    ),
    Command("remove", (), _bulk("remove"), permission="remove", form="tagging"),
    Command(
        "delete",
        (
            "`/cctag delete [<tag>[, ...]]`: delete tags (shows how many contacts carry each; "
            "asks first)",
        ),
        _bulk("delete"),
        permission="delete",
        form="delete",
    ),
    Command(
        "lists",
        (
            "`/cctag lists` / `/cctag unlists [<list>[, ...] <source>]`: add contacts to lists, "
            "or remove them",
        ),
        _bulk("lists"),
        permission="lists",
        form="lists",
    ),
    Command("unlists", (), _bulk("unlists"), permission="unlists", form="lists"),
)
