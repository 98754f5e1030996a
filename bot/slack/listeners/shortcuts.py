"""The message shortcut “Tag the emails in this message”: the add-tags form at once, its
contacts the emails of that message, its activity posted in that message's channel. Emails
too many for the contacts field are kept server-side behind a short key the form carries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack import views
from bot.slack.conversation import HomeConversation
from bot.slack.listeners import Deps, Incoming, acked
from bot.usecases.outcomes import Refused
from bot.usecases.people import emails_in_text
from bot.usecases.requests import Request, Turn

CALLBACK_ID = "tag_emails_in_message"
SHORTCUT_NAME = "Tag the emails in this message"
# A text input starts with at most what it may hold (plain_text_input's max_length).
MAX_PREFILL = 3000
NO_EMAILS = "I found no email address in this message, so there is nobody to tag"


def message_text(body: dict[str, Any]) -> str:
    """The text of the message the shortcut was used on, with its attachments' text."""
    message: dict[str, Any] = body.get("message") or {}
    parts = [str(message.get("text") or "")]
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            parts += [str(attachment.get(key) or "") for key in ("pretext", "text", "fallback")]
    return "\n".join(parts)


def emails_form(
    channel_id: str, emails: Sequence[str], keep: Callable[[str], str]
) -> dict[str, Any]:
    """The add-tags form with the emails: typed in its contacts field when they fit there,
    else kept (`keep` answers their key) and counted; Refused when there are none."""
    if not emails:
        raise Refused(NO_EMAILS)
    joined = ", ".join(emails)
    if len(joined) <= MAX_PREFILL:
        return views.tagging_form("add", channel_id, joined)
    kept = views.KeptEmails(keep("\n".join(emails)), len(emails))
    return views.tagging_form("add", channel_id, kept=kept)


class ShortcutConversation(HomeConversation):
    """Answers open modals (the shortcut's trigger); the form posts in the message's channel."""

    def __init__(
        self,
        client: WebClient,
        trigger_id: str,
        user_id: str,
        channel_id: str,
        emails: Sequence[str],
        keep: Callable[[str], str],
    ) -> None:
        super().__init__(client, trigger_id, user_id)
        self._channel_id = channel_id
        self._emails = emails
        self._keep = keep

    def open_form(self, command: str) -> None:
        self._open(emails_form(self._channel_id, self._emails, self._keep))


def register(app: App, deps: Deps) -> None:
    def on_shortcut(incoming: Incoming) -> None:
        body = incoming.body
        trigger = str(body.get("trigger_id") or "")
        channel = str((body.get("channel") or {}).get("id") or incoming.actor.user_id)
        emails = emails_in_text(message_text(body))
        actor = incoming.actor

        def keep(line: str) -> str:
            return deps.pipeline.keep(actor, line)

        talk = ShortcutConversation(incoming.client, trigger, actor.user_id, channel, emails, keep)
        request = Request(actor, SHORTCUT_NAME, channel, once=f"shortcut:{trigger}")
        deps.pipeline.run(request, talk, "add", _open_add_form)

    app.shortcut(CALLBACK_ID)(acked(deps, on_shortcut))


def _open_add_form(turn: Turn) -> None:
    turn.open_form("add")
