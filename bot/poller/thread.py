"""Posting into an activity's thread exactly once, even across crashes and workers.

Every reply the poller posts carries Slack message metadata naming it:
`{"event_type": "cctag_activity_state", "event_payload": {"activity_id": ..., "state": ...}}`
(the progress reply uses the state `progress`). The poller records its intent in the store
before chat.postMessage and the message's ts after. If it dies between the two, the intent
stays `pending`; whoever recovers it reads the thread (conversations.replies with
include_all_metadata) and, if the reply is there, records its ts instead of posting again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from bot.poller.messages import Message

EVENT_TYPE = "cctag_activity_state"
PROGRESS = "progress"
REPLIES_PAGE = 15
CLOCK_MARGIN = timedelta(minutes=5)  # our clock and Slack's may be this far apart


def post_key(state: str) -> str:
    """The store's key of the reply for `state` (`progress` for the progress reply)."""
    return PROGRESS if state == PROGRESS else f"state:{state}"


def metadata(activity_id: str, state: str) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"activity_id": activity_id, "state": state}}


class Thread:
    """One activity's thread in one channel."""

    def __init__(self, client: WebClient, channel: str, parent_ts: str, activity_id: str) -> None:
        self._client = client
        self.channel = channel
        self.parent_ts = parent_ts
        self.activity_id = activity_id

    def post(self, state: str, message: Message) -> str:
        response = self._client.chat_postMessage(
            channel=self.channel,
            thread_ts=self.parent_ts,
            text=message.text,
            blocks=message.blocks,
            metadata=metadata(self.activity_id, state),
            unfurl_links=False,
        )
        return str(response["ts"])

    def edit(self, ts: str, message: Message) -> None:
        self._client.chat_update(
            channel=self.channel, ts=ts, text=message.text, blocks=message.blocks
        )

    def edit_parent(self, message: Message) -> None:
        self.edit(self.parent_ts, message)

    def posted_states(self, since: datetime, wanted: set[str]) -> dict[str, str]:
        """Our replies posted since `since` (when their intents were stored): state → ts.

        Slack's ts is the time of the post, so a reply meant at `since` is not older than it
        (less a margin for clocks apart): only those pages are read, and reading stops once
        every `wanted` state is found. Apps created since 2025-05-29 may read 15 messages a
        page, once a minute.
        """
        found: dict[str, str] = {}
        oldest = f"{(since - CLOCK_MARGIN).timestamp():.6f}"
        cursor: str | None = None
        while True:
            response = self._client.conversations_replies(
                channel=self.channel,
                ts=self.parent_ts,
                oldest=oldest,
                include_all_metadata=True,
                limit=REPLIES_PAGE,
                cursor=cursor,
            )
            for message in response.get("messages") or []:
                state = self._our_state(message)
                if state is not None:
                    found.setdefault(state, str(message["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if wanted <= found.keys() or not response.get("has_more") or not cursor:
                return found

    def _our_state(self, message: dict[str, Any]) -> str | None:
        meta = message.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        if meta.get("event_type") != EVENT_TYPE or payload.get("activity_id") != self.activity_id:
            return None
        state = payload.get("state")
        return str(state) if state else None
