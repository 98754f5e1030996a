"""undo: reverse a change cctag made, exactly (bot/usecases/undo). Asked by the change's
requester or an admin, within CCTAG_UNDO_DAYS; previewed, confirmed, run in the change's
thread; a yes is planned again, so what changed in between is seen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.cc.client import AccountClient
from bot.usecases.commands.command import Command
from bot.usecases.grammar import parse_undo
from bot.usecases.launch import launched_message
from bot.usecases.outcomes import Refused
from bot.usecases.ports import UNDO_ANY, Pending
from bot.usecases.undo.reverse import Undoer, UndoPlan, nothing_left, preview

if TYPE_CHECKING:
    from bot.usecases.requests import Turn

UNDO = "undo"


def _planned(turn: Turn, rest: str) -> tuple[Undoer, AccountClient, UndoPlan]:
    change_id = parse_undo(rest)
    account = turn.account()
    undoer = Undoer(turn.ops, turn.ops.undo_days)
    plan = undoer.plan(turn.actor, account, change_id)
    if plan.record.requester_id != turn.actor.user_id:
        turn.permit(UNDO_ANY)  # someone else's change: admins only
    if nothing_left(plan):
        raise Refused(preview(plan).text + "\nNothing is left to undo: nothing was changed.")
    return undoer, account, plan


def _undo(turn: Turn, rest: str) -> None:
    """Previewed and asked to confirm; the yes comes back here, `turn.confirmed`, planned
    again from the account as it is then."""
    undoer, account, plan = _planned(turn, rest)
    if turn.confirmed:
        launched, launched_plan = undoer.run(turn.actor, account, plan, turn.conversation)
        turn.say(launched_message(launched_plan, launched))
        return
    turn.audit(UNDO, plan.change_id, "confirmation asked")
    line = f"{UNDO} {plan.change_id}"
    turn.conversation.ask_to_confirm(preview(plan), Pending(line, None, plan.record.channel_id))


COMMANDS = (
    Command(
        UNDO,
        (
            "`/cctag undo <activity or job id>`: reverse a change exactly (who carried the "
            "tags or was on the lists before gets it back; nobody else is touched); also the "
            "`Undo` button under a change's end",
        ),
        _undo,
        permission=UNDO,
    ),
)
