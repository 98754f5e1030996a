"""What the use cases need from the outside, as small protocols: no Slack, no HTTP.

`Conversation` is the person's side of one request (Slack's ephemeral replies, modals and
channel, or the terminal); `Accounts` finds a workspace's Constant Contact account; `Permits`
says who may do what where.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.cc.client import AccountClient
from bot.usecases.inputs import BulkInput

NOT_CONNECTED = (
    "This workspace is not connected to Constant Contact yet. "
    "Type /cctag connect to connect an account."
)
CONNECT_NOT_SET_UP = (
    "Connecting accounts is not set up here: this bot works with the one Constant Contact "
    "account of its CC_ACCESS_TOKEN."
)


@dataclass(frozen=True)
class Message:
    """What the bot says, in the small markup both front ends read: *bold*, `code`, • items,
    <@user> mentions. `note` is the smaller line under it; `link` a URL to open."""

    text: str
    note: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class Pending:
    """A planned request waiting for a yes: the line to run again through the registry (None
    for a form), the form's input (None for a line), and where it was asked."""

    line: str | None
    input: BulkInput | None
    channel: str | None


class Conversation(Protocol):
    """The requester's side of one request."""

    def say(self, message: Message) -> None:
        """Tell the requester (only them)."""
        ...

    def refuse(self, reason: str) -> None:
        """Tell the requester why nothing was changed."""
        ...

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        """Ask yes or no; a yes comes back as `Pipeline.confirmed(..., pending, ...)`."""
        ...

    def open_form(self, command: str) -> None:
        """Ask for what a bare `command` (add, remove, delete, lists, unlists) needs."""
        ...

    def post_parent(self, channel: str, message: Message) -> str:
        """Post the request's parent message where everyone sees it; answers its reference.
        Raises Refused when the bot cannot post there."""
        ...

    def update_parent(self, channel: str, ref: str, message: Message) -> None: ...


@runtime_checkable
class TellsProgress(Protocol):
    """A Conversation that can say, before the answer, that slow work is under way (a modal
    keeps showing it as working). Front ends without it simply answer when done."""

    def working(self, message: Message) -> None: ...


class Accounts(Protocol):
    """Each AccountClient carries its public `account_key` (None: the one configured account)."""

    def client_for(self, workspace_id: str) -> AccountClient | None:
        """The workspace's connected Constant Contact account, or None if not connected."""
        ...


# The actions `Permits` decides on. Every command's name is an action too (allowed channels);
# these are the privileged ones, for the configured admins only.
DELETE_TAGS = "delete_tags"
ALL_ACTIVE = "all_active"
CONNECT = "connect"
DISCONNECT = "disconnect"
SET_POLICY = "set_policy"
UNDO_ANY = "undo_any"  # undo a change someone else asked for
PRIVILEGED_ACTIONS = frozenset({DELETE_TAGS, ALL_ACTIVE, CONNECT, DISCONNECT, SET_POLICY, UNDO_ANY})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


class Permits(Protocol):
    def check(
        self, workspace_id: str, user_id: str, channel_id: str | None, action: str
    ) -> Decision:
        """Allowed or not (a refusal is audited by the implementation)."""
        ...


class Connections(Protocol):
    """Connecting a workspace to a Constant Contact account (bot.connect.flow.ConnectFlow)."""

    def start_connect(self, workspace_id: str, user_id: str) -> str: ...

    def disconnect(self, workspace_id: str, user_id: str) -> bool: ...
