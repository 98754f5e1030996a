"""Posting into an activity's thread exactly once, even across crashes and workers.

Every reply the poller posts carries Slack message metadata naming it:
`{"event_type": "cctag_activity_state", "event_payload": {"activity_id": ..., "state": ...}}`
(the progress reply uses the state `progress`). The poller records its intent in the store
before chat.postMessage and the message's ts after. If it dies between the two, the intent
stays `pending`; whoever recovers it reads the thread (conversations.replies with
include_all_metadata) and, if the reply is there, records its ts instead of posting again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

from bot.poller.messages import Message

EVENT_TYPE = "cctag_activity_state"
PROGRESS = "progress"
REPLIES_PAGE = 15
CLOCK_MARGIN = timedelta(seconds=30)  # our clock and Slack's may be this far apart


def post_key(state: str) -> str:
    """The store's key of the reply for `state` (`progress` for the progress reply)."""
    return PROGRESS if state == PROGRESS else f"state:{state}"


def metadata(activity_id: str, state: str) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"activity_id": activity_id, "state": state}}


@dataclass
class ReadBack:
    """A read of a thread back under way: from where on, and what was found so far."""

    oldest: str
    found: dict[str, str] = field(default_factory=dict)

    @classmethod
    def since(cls, moment: datetime) -> ReadBack:
        return cls(oldest=f"{(moment - CLOCK_MARGIN).timestamp():.6f}")


class Thread:
    """One activity's thread in one channel."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        parent_ts: str,
        activity_id: str,
        *,
        before_read: Callable[[], None] = lambda: None,
    ) -> None:
        self._client = client
        self.channel = channel
        self.parent_ts = parent_ts
        self.activity_id = activity_id
        self._before_read = before_read  # raises when the page must wait (Slack's 1 a minute)

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

    def posted_states(self, reading: ReadBack, wanted: set[str]) -> dict[str, str]:
        """Our replies in the thread from `reading.oldest` on: state → ts (into `reading`).

        Slack's ts is the time of the post and a reply is posted after its intent is stored,
        so only the replies since then are read (less a margin for clocks apart), and reading
        stops once every `wanted` state is found. Apps created since 2025-05-29 read 15
        messages a page, once a minute: if a page is refused, `reading` keeps what was read
        and where to go on from, so the next try does not start over.
        """
        while True:
            self._before_read()
            response = self._client.conversations_replies(
                channel=self.channel,
                ts=self.parent_ts,
                oldest=reading.oldest,
                include_all_metadata=True,
                limit=REPLIES_PAGE,
            )
            messages = [m for m in response.get("messages") or [] if m.get("ts") != self.parent_ts]
            for message in messages:
                state = self._our_state(message)
                if state is not None:
                    reading.found.setdefault(state, str(message["ts"]))
            if messages:
                reading.oldest = str(messages[-1]["ts"])  # exclusive: the next page starts after
            if wanted <= reading.found.keys() or not response.get("has_more") or not messages:
                return reading.found

    def _our_state(self, message: dict[str, Any]) -> str | None:
        meta = message.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        if meta.get("event_type") != EVENT_TYPE or payload.get("activity_id") != self.activity_id:
            return None
        state = payload.get("state")
        return str(state) if state else None
