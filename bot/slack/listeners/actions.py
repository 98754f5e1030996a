"""Buttons: a one-line confirmation's yes and no, an approval's Approve and Deny, the App
Home's buttons (its rules' too), link buttons."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.home import RULE_ACTIONS
from bot.slack import views
from bot.slack.conversation import HomeConversation, SlackConversation
from bot.slack.listeners import Deps, Incoming, acked
from bot.slack.views import (
    APPROVE_REQUEST,
    CANCEL_COMMAND,
    CONFIRM_COMMAND,
    CONNECT_LINK,
    DENY_REQUEST,
    HOME_ACTIONS,
    HOME_CONNECT,
)
from bot.usecases.ports import Message, Pending
from bot.usecases.requests import Request
from bot.usecases.undo import UNDO_BUTTON

HOME_COMMANDS = {
    "home_add": "add",
    "home_remove": "remove",
    "home_delete": "delete",
    "home_lists": "lists",
    "home_create": "create",
}


def _value(incoming: Incoming) -> dict[str, Any]:
    try:
        found = json.loads(incoming.action.get("value") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def register(app: App, deps: Deps) -> None:
    def reply_in_place(incoming: Incoming) -> SlackConversation:
        channel = str((incoming.body.get("channel") or {}).get("id", ""))
        return SlackConversation(incoming.respond, incoming.client, channel, replace_original=True)

    def on_confirm(incoming: Incoming) -> None:
        value = _value(incoming)
        line = str(value.get("t", ""))
        channel = str(value.get("c") or (incoming.body.get("channel") or {}).get("id", ""))
        request = Request(incoming.actor, line, channel, once=f"confirm:{value.get('k')}")
        starting = Message(":hourglass_flowing_sand: Starting…")
        pending = Pending(line, None, channel)
        deps.pipeline.confirmed(request, pending, reply_in_place(incoming), starting=starting)

    def on_cancel(incoming: Incoming) -> None:
        value = _value(incoming)
        request = Request(incoming.actor, str(value.get("t", "")), once=f"confirm:{value.get('k')}")
        deps.pipeline.cancelled(request, reply_in_place(incoming))

    def on_approve(incoming: Incoming) -> None:
        """Through the registry as `approve <id>`: answers only the one who clicked."""
        channel = str((incoming.body.get("channel") or {}).get("id", ""))
        talk = SlackConversation(incoming.respond, incoming.client, channel)
        approval_id = str(incoming.action.get("value") or "")
        deps.pipeline.handle(Request(incoming.actor, f"approve {approval_id}", channel), talk)

    def on_deny(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """The reason first: a modal, opened while the click's trigger is fresh."""
        ack()
        actions: list[dict[str, Any]] = body.get("actions") or [{}]
        approval_id = str(actions[0].get("value") or "")
        client.views_open(
            trigger_id=str(body.get("trigger_id") or ""), view=views.deny_form(approval_id)
        )

    def on_home_button(incoming: Incoming) -> None:
        actor = incoming.actor
        trigger = str(incoming.body.get("trigger_id") or "")
        name = str(incoming.action.get("action_id", ""))
        talk = HomeConversation(incoming.client, trigger, actor.user_id)
        if name == HOME_CONNECT:
            deps.pipeline.handle(Request(actor, "connect", actor.user_id), talk)
            return
        command = HOME_COMMANDS[name]
        request = Request(actor, command, actor.user_id)
        deps.pipeline.run(request, talk, command, lambda turn: turn.open_form(command))

    def on_rule_button(incoming: Incoming) -> None:
        """The Home's Pause, Resume and Delete: `/cctag rule <verb> <id>`, then the Home anew."""
        actor = incoming.actor
        verb = RULE_ACTIONS[str(incoming.action.get("action_id", ""))]
        line = f"rule {verb} {incoming.action.get('value', '')}"
        trigger = str(incoming.body.get("trigger_id") or "")
        talk = HomeConversation(incoming.client, trigger, actor.user_id)
        deps.pipeline.handle(Request(actor, line, actor.user_id), talk)
        if deps.home is not None:
            view = deps.home.view(actor.workspace_id)
            incoming.client.views_publish(user_id=actor.user_id, view=view)

    def on_undo(incoming: Incoming) -> None:
        """`Undo` under a change's end: the undo's preview, for the one who clicked."""
        change_id = str(incoming.action.get("value") or "")
        channel = str((incoming.body.get("channel") or {}).get("id", ""))
        click = f"undo:{change_id}:{incoming.actor.user_id}:{incoming.action.get('action_ts')}"
        request = Request(incoming.actor, f"undo {change_id}", channel, once=click)
        deps.pipeline.handle(request, SlackConversation(incoming.respond, incoming.client, channel))

    app.action(UNDO_BUTTON)(acked(deps, on_undo))
    app.action(CONFIRM_COMMAND)(acked(deps, on_confirm))
    app.action(CANCEL_COMMAND)(acked(deps, on_cancel))
    app.action(APPROVE_REQUEST)(acked(deps, on_approve))
    app.action(DENY_REQUEST)(on_deny)
    for action_id in (*HOME_ACTIONS, HOME_CONNECT):
        app.action(action_id)(acked(deps, on_home_button))
    for action_id in RULE_ACTIONS:
        app.action(action_id)(acked(deps, on_rule_button))
    app.action(CONNECT_LINK)(_link_clicked)


def _link_clicked(ack: Ack) -> None:
    """A URL button still sends its click; nothing to do but answer."""
    ack()
