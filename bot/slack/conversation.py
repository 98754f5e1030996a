"""The Conversation port over Slack: ephemeral replies (respond), modals (views.*), and the
channel's parent messages (chat.*)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack import views
from bot.slack.forms import MAX_METADATA, SAVED_FORM, Form
from bot.usecases.outcomes import Refused
from bot.usecases.ports import Message, Pending

log = logging.getLogger(__name__)

MAX_BUTTON_VALUE = 2000
FORMS = {
    "add": lambda channel: views.tagging_form("add", channel),
    "remove": lambda channel: views.tagging_form("remove", channel),
    "delete": views.delete_form,
    "lists": lambda channel: views.lists_form("add", channel),
    "unlists": lambda channel: views.lists_form("remove", channel),
    "create": lambda channel: views.create_form(),
}


# What to tell a person when the parent message cannot be posted, by Slack's error.
CANNOT_POST = {
    "not_in_channel": "I am not in this channel; invite me with `/invite @cctag` and try again",
    "is_archived": "this channel is archived; run the command in another one",
    "channel_not_found": "I cannot see this channel; invite me with `/invite @cctag`, or use "
    "another one",
    "ratelimited": "Slack asked me to slow down; try again in a minute",
}


def cannot_post(error: str) -> str:
    """Nothing was started: the sentence for why, in words, never the raw error alone."""
    why = CANNOT_POST.get(error, f"Slack answered `{error or 'an error'}`; try again in a moment")
    return f"I could not post the request's message: {why}. Nothing was started."


def as_reply(message: Message) -> views.Reply:
    if message.link:
        return views.connect_reply(message.link)
    return views.reply(message.text, context=message.note)


class ChannelPosts:
    """Parent messages, the same whatever the requester's side is."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        # A post to a user id lands in the app's DM with them, and Slack answers the DM's
        # `D…` id: chat.update needs that id, the user id is refused (channel_not_found).
        self._conversations: dict[str, str] = {}

    def post_parent(self, channel: str, message: Message) -> str:
        shown = as_reply(message)
        try:
            posted = self.client.chat_postMessage(
                channel=channel, text=shown.text, blocks=shown.blocks
            )
        except SlackApiError as exc:
            raise Refused(cannot_post(str(exc.response.get("error") or ""))) from None
        self._conversations[channel] = str(posted.get("channel") or channel)
        return str(posted["ts"])

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        shown = as_reply(message)
        conversation = self._conversations.get(channel, channel)
        try:
            self.client.chat_update(
                channel=conversation, ts=ref, text=shown.text, blocks=shown.blocks
            )
        except SlackApiError as exc:
            # The activity is what matters: a stale parent line never turns a started activity
            # into "nothing was started"; the requester is told its id either way.
            error = exc.response.get("error")
            log.warning("updating the parent in %s failed: %s", conversation, error)


class SlackConversation(ChannelPosts):
    """A slash command or a message button: answers replace the button's message when
    `replace_original`, else arrive as new ephemeral replies."""

    def __init__(
        self,
        respond: Respond,
        client: WebClient,
        channel_id: str,
        *,
        trigger_id: str = "",
        replace_original: bool = False,
    ) -> None:
        super().__init__(client)
        self._respond = respond
        self._trigger_id = trigger_id
        self._channel_id = channel_id
        self._replace = replace_original

    def _send(self, reply: views.Reply) -> None:
        if self._replace:
            self._respond(text=reply.text, blocks=reply.blocks, replace_original=True)
        else:
            self._respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")

    def say(self, message: Message) -> None:
        self._send(as_reply(message))

    def working(self, message: Message) -> None:
        self._send(views.reply(f":hourglass_flowing_sand: {message.text}"))

    def refuse(self, reason: str) -> None:
        self._send(views.refusal(reason))

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        line = pending.line or ""
        value = json.dumps({"k": uuid.uuid4().hex, "t": line, "c": pending.channel or ""})
        if len(value) > MAX_BUTTON_VALUE:
            raise Refused("This command is too long to confirm; split it into smaller ones")
        self._send(views.confirm_reply(preview.text, value))

    def open_form(self, command: str) -> None:
        view = FORMS[command](self._channel_id)
        self.client.views_open(trigger_id=self._trigger_id, view=view)


class ModalConversation(ChannelPosts):
    """A modal that is already open: every answer replaces it. `keep` saves a confirmation's
    form server-side and answers its short key (a form of any size fits behind it)."""

    def __init__(
        self,
        client: WebClient,
        view_id: str,
        title: str,
        done_title: str,
        keep: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(client)
        self._view_id = view_id
        self._title = title
        self._done_title = done_title
        self._keep = keep

    def say(self, message: Message) -> None:
        shown = views.result_view(self._done_title, message.text, message.note)
        self.client.views_update(view_id=self._view_id, view=shown)

    def working(self, message: Message) -> None:
        shown = views.working_view(self._title, message.text)
        self.client.views_update(view_id=self._view_id, view=shown)

    def refuse(self, reason: str) -> None:
        shown = views.result_view(self._title, f":warning: {reason}", "Nothing was changed.")
        self.client.views_update(view_id=self._view_id, view=shown)

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        self._confirm_with(preview, form_of(pending).to_metadata())

    def _confirm_with(self, preview: Message, meta: str) -> None:
        """The confirmation view, its form kept server-side behind a short key when it can be."""
        if self._keep is not None:
            meta = json.dumps({SAVED_FORM: self._keep(meta)})
        elif len(meta) > MAX_METADATA:
            raise Refused("Too much to confirm in a form; split it into smaller requests")
        confirm = views.confirm_view(self._title, preview.text, {})
        confirm["private_metadata"] = meta
        self.client.views_update(view_id=self._view_id, view=confirm)

    def open_form(self, command: str) -> None:
        raise Refused("Finish this form first")


def form_of(pending: Pending) -> Form:
    """The form a modal confirms (a modal asks only for what a form planned)."""
    if pending.input is None:
        raise Refused("Confirm this with its command line")
    return Form.of(pending.input, pending.channel or "")


class HomeConversation(ChannelPosts):
    """A button of the App Home: each answer opens a modal; activities go to the user's DM."""

    def __init__(self, client: WebClient, trigger_id: str, user_id: str) -> None:
        super().__init__(client)
        self._trigger_id = trigger_id
        self._dm = user_id

    def _open(self, view: dict[str, Any]) -> None:
        self.client.views_open(trigger_id=self._trigger_id, view=view)

    def say(self, message: Message) -> None:
        if message.link:
            self._open(views.connect_view(message.link))
        else:
            self._open(views.result_view("cctag", message.text, message.note))

    def refuse(self, reason: str) -> None:
        self._open(views.result_view("cctag", f":warning: {reason}", "Nothing was changed."))

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        raise Refused("Use the form to start this")

    def open_form(self, command: str) -> None:
        self._open(FORMS[command](self._dm))
