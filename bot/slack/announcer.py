"""The parent message of an activity, in the channel where it was asked for."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cc.models import Activity
from bot.slack import views
from bot.usecases import Actor, Plan, Refused

log = logging.getLogger(__name__)
NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "is_archived"}


class SlackAnnouncer:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def starting(self, actor: Actor, plan: Plan) -> str:
        try:
            response = self._client.chat_postMessage(
                channel=actor.channel_id,
                text=views.parent_text(actor, plan, "starting"),
                blocks=views.parent_blocks(actor, plan, "State: *starting…*"),
                unfurl_links=False,
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error in NOT_A_MEMBER:
                raise Refused(
                    f"I cannot post in <#{actor.channel_id}> ({error}); invite me with "
                    "`/invite @cctag` and try again. Nothing was started."
                ) from None
            raise Refused(f"Slack refused the message ({error}); nothing was started.") from None
        return str(response["ts"])

    def started(self, ts: str, actor: Actor, plan: Plan, activity: Activity) -> None:
        self._edit(ts, actor, plan, activity.state, views.started_line(activity))

    def failed(self, ts: str, actor: Actor, plan: Plan, reason: str) -> None:
        self._edit(ts, actor, plan, "could not start", f"State: *could not start*: {reason}")

    def _edit(self, ts: str, actor: Actor, plan: Plan, state: str, line: str) -> None:
        try:
            self._client.chat_update(
                channel=actor.channel_id,
                ts=ts,
                text=views.parent_text(actor, plan, state),
                blocks=views.parent_blocks(actor, plan, line),
            )
        except SlackApiError as exc:  # the activity's fate does not hang on this edit
            log.warning("could not update the parent message %s: %s", ts, exc)
