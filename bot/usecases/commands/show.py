"""show lists|segments|campaigns: the account's names, so that a person can type them.

`show` and not `lists`: `/cctag lists` with nothing after it opens the add-to-lists form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.cc.campaigns import Campaigns
from bot.cc.client import AccountClient
from bot.cc.errors import CCError
from bot.usecases.commands.command import Command
from bot.usecases.names import Named, clashing, fold
from bot.usecases.outcomes import Refused, cc_message, plural
from bot.usecases.ports import Message

if TYPE_CHECKING:
    from bot.usecases.requests import Turn

SHOWN = 100  # lines; the rest are counted
RECENT = timedelta(days=365)  # campaigns updated within this
USAGE = "Say what to show: `/cctag show lists`, `/cctag show segments` or `/cctag show campaigns`"


def _lines(items: list[Named], counted: bool) -> list[str]:
    """One line a name; a name that folds like another says its id (the way to pick it)."""
    unclear = clashing(items)
    lines = []
    for item in sorted(items, key=lambda i: (fold(i.name), i.ident)):
        count = f": {plural(item.count or 0, 'contact')}" if counted else ""
        ident = f" (id `{item.ident}`)" if item.ident in unclear else ""
        lines.append(f"• *{item.name}*{ident}{count}")
    return lines


def _listed(title: str, lines: list[str], empty: str) -> Message:
    if not lines:
        return Message(empty)
    more = len(lines) - SHOWN
    shown = lines[:SHOWN] + ([f"… and {more} more"] if more > 0 else [])
    return Message(f"*{title}*\n" + "\n".join(shown))


def show_lists(account: AccountClient) -> Message:
    lists = account.list_lists(include_membership_count=True)
    items = [Named(x.list_id, x.name, x.membership_count) for x in lists]
    return _listed(
        plural(len(items), "list"), _lines(items, counted=True), "The account has no lists."
    )


def show_segments(account: AccountClient) -> Message:
    segments = sorted(
        Campaigns(account).list_segments(), key=lambda s: (fold(s.name), s.segment_id)
    )
    lines = [f"• *{s.name}* (id `{s.segment_id}`)" for s in segments]
    return _listed(plural(len(lines), "segment"), lines, "The account has no segments.")


def show_campaigns(account: AccountClient) -> Message:
    found = Campaigns(account).list_campaigns(after=datetime.now(UTC) - RECENT)
    lines = []
    for campaign in found:
        when = f"updated {campaign.updated_at:%Y-%m-%d}" if campaign.updated_at else "undated"
        status = campaign.current_status or "unknown status"
        lines.append(f"• *{campaign.name}* ({status}, {when})")
    title = f"{plural(len(lines), 'email campaign')} of the last year, most recent first"
    return _listed(title, lines, "The account has no email campaigns of the last year.")


SHOWERS: dict[str, Callable[[AccountClient], Message]] = {
    "lists": show_lists,
    "segments": show_segments,
    "campaigns": show_campaigns,
}


def _show(turn: Turn, rest: str) -> None:
    what = rest.strip().lower()
    if what not in SHOWERS:
        raise Refused(USAGE)
    try:
        message = SHOWERS[what](turn.account())
    except CCError as exc:
        raise Refused(cc_message(exc)) from None
    turn.audit("show", what, "shown")
    turn.say(message)


COMMANDS = (
    Command(
        "show",
        (
            "`/cctag show lists|segments|campaigns`: the account's lists (with counts), "
            "segments (with ids) or recent email campaigns, by name",
        ),
        _show,
        permission="show",
    ),
)
