"""/cctag: the line goes to the pipeline; answers come back as ephemeral replies."""

from __future__ import annotations

from slack_bolt import App

from bot.mrkdwn import as_typed
from bot.slack.conversation import SlackConversation
from bot.slack.listeners import Deps, Incoming, acked
from bot.usecases.requests import Request

COMMAND = "/cctag"


def register(app: App, deps: Deps) -> None:
    def on_command(incoming: Incoming) -> None:
        body = incoming.body
        trigger = str(body.get("trigger_id") or "")
        channel = str(body.get("channel_id") or "")
        request = Request(
            incoming.actor,
            as_typed(str(body.get("text") or "")),  # Slack escapes &, <, > and links
            channel,
            once=f"command:{trigger}" if trigger else None,
        )
        talk = SlackConversation(incoming.respond, incoming.client, channel, trigger_id=trigger)
        deps.pipeline.handle(request, talk)

    app.command(COMMAND)(acked(deps, on_command))
