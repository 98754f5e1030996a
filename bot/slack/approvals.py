"""The approval requests' messages over Slack (bot/usecases/approvals.py `ApprovalPosts`):
posted with `Approve` and `Deny` to the approvers' channel or each approver's DM, updated
without buttons once decided, and a DM to the requester."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.ports import SlackClients
from bot.slack import views
from bot.slack.conversation import as_reply, cannot_post
from bot.usecases.outcomes import Refused
from bot.usecases.ports import Message


class SlackApprovalPosts:
    def __init__(self, slack: SlackClients) -> None:
        self._slack = slack

    def post_request(
        self, workspace_id: str, where: str, message: Message, approval_id: str
    ) -> tuple[str, str]:
        shown = views.approval_request(message.text, message.note or "", approval_id)
        client = self._slack.client_for(workspace_id)
        try:
            posted = client.chat_postMessage(channel=where, text=shown.text, blocks=shown.blocks)
        except SlackApiError as exc:
            raise Refused(cannot_post(str(exc.response.get("error") or ""))) from None
        # A post to a user lands in the app's DM with them: its `D…` id is what updates it.
        return str(posted.get("channel") or where), str(posted["ts"])

    def update_request(
        self, workspace_id: str, conversation: str, ts: str, message: Message
    ) -> None:
        shown = as_reply(message)
        self._slack.client_for(workspace_id).chat_update(
            channel=conversation, ts=ts, text=shown.text, blocks=shown.blocks
        )

    def tell(self, workspace_id: str, user_id: str, message: Message) -> None:
        shown = as_reply(message)
        self._slack.client_for(workspace_id).chat_postMessage(
            channel=user_id, text=shown.text, blocks=shown.blocks
        )
