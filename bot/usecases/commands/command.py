"""What a command is: the leaf every command module imports (the registry imports them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.usecases.requests import Turn


@dataclass(frozen=True)
class Command:
    """`permission` is the action checked before `run` (None: the command checks its own);
    `form` names the modal Slack opens when the line has nothing after the command."""

    name: str
    help: tuple[str, ...]
    run: Callable[[Turn, str], None]
    permission: str | None = None
    form: str | None = None
