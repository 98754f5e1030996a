"""connect and disconnect: a workspace's Constant Contact account (admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.usecases.commands.command import Command
from bot.usecases.ports import CONNECT, DISCONNECT, Message

if TYPE_CHECKING:
    from bot.usecases.requests import Turn


def connect_link(link: str) -> Message:
    return Message(
        f"Connect a Constant Contact account: <{link}|open the authorization page>.", link=link
    )


def _connect(turn: Turn, rest: str) -> None:
    link = turn.connections().start_connect(turn.actor.workspace_id, turn.actor.user_id)
    turn.say(connect_link(link))


def _disconnect(turn: Turn, rest: str) -> None:
    removed = turn.connections().disconnect(turn.actor.workspace_id, turn.actor.user_id)
    if removed:
        turn.say(
            Message(
                "Disconnected: this workspace no longer uses its Constant Contact account.",
                "Its tokens are forgotten; `/cctag connect` connects an account again.",
            )
        )
    else:
        turn.say(Message("This workspace had no Constant Contact account connected."))


COMMANDS = (
    Command(
        "connect",
        ("`/cctag connect`: connect this workspace to a Constant Contact account (admins)",),
        _connect,
        permission=CONNECT,
    ),
    Command(
        "disconnect",
        ("`/cctag disconnect`: forget the connected Constant Contact account (admins)",),
        _disconnect,
        permission=DISCONNECT,
    ),
)
