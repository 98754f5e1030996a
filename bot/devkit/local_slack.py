"""Signed requests as Slack sends them, for the shell, the tests and the bench.

Slash commands are form fields; interactivity is `payload=<json>`; every request carries
`X-Slack-Request-Timestamp` and the v0 `X-Slack-Signature` over `v0:<ts>:<body>`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.devkit.fakeslack.limits import check_options_answer


def signed_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


def state_values(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """`{"targets": [("id", "VIP")], "source_kind": "lists", "exclude": "a@b.c"}` → view state.

    Lists of (value, text) are multi-selects, plain strings are text inputs (or the selected
    option of a radio or select block), as Slack would send them. A file input takes a list of
    file objects (`FakeSlack.file_object(id)`), as Slack hands over the uploaded files.
    """
    state: dict[str, Any] = {}
    for block in view.get("blocks", []):
        element = block.get("element")
        if block.get("type") != "input" or not element:
            continue
        block_id, action_id = block["block_id"], element["action_id"]
        state[block_id] = {action_id: _element_value(element, values.get(block_id))}
    return {"values": state}


def _element_value(element: dict[str, Any], given: Any) -> dict[str, Any]:
    kind = element["type"]
    if kind == "file_input":
        return {"type": kind, "files": list(given or [])}
    if kind == "multi_external_select":
        options = [{"value": v, "text": {"type": "plain_text", "text": t}} for v, t in given or []]
        return {"type": kind, "selected_options": options}
    if kind in ("radio_buttons", "static_select"):
        chosen = None
        if given is not None:
            chosen = {"value": given, "text": {"type": "plain_text", "text": given}}
        elif element.get("initial_option"):
            chosen = element["initial_option"]
        return {"type": kind, "selected_option": chosen}
    if given is None:  # an untouched field submits what it started with
        given = element.get("initial_value")
    return {"type": kind, "value": given}


def _trigger_issuer(response_url: Callable[[str], str]) -> Callable[[], str]:
    """Trigger ids come from the fake Slack whose response_url we were given (it checks them)."""
    issue = getattr(getattr(response_url, "__self__", None), "issue_trigger", None)
    if callable(issue):
        return issue
    return lambda: f"trigger-{uuid.uuid4().hex}"


class LocalSlack:
    """Sends what Slack would send to `url` (…/slack/events), signed with `secret`."""

    def __init__(
        self,
        url: str,
        secret: str,
        response_url: Callable[[str], str],
        *,
        team: str = "T0001",
        http: httpx.Client | None = None,
        triggers: Callable[[], str] | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.response_url = response_url
        self.team = team
        self.http = http or httpx.Client(timeout=30)
        self.triggers = triggers or _trigger_issuer(response_url)

    def post(
        self, body: str, *, timestamp: int | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        sent = {**signed_headers(self.secret, body, timestamp), **(headers or {})}
        return self.http.post(self.url, content=body.encode(), headers=sent)

    def command_body(self, text: str, *, user: str, channel: str, key: str | None = None) -> str:
        key = key or uuid.uuid4().hex
        return urlencode(
            {
                "token": "legacy",
                "team_id": self.team,
                "team_domain": "local",
                "channel_id": channel,
                "channel_name": "local",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/cctag",
                "text": text,
                "api_app_id": "A0001",
                "response_url": self.response_url(key),
                "trigger_id": self.triggers(),
            }
        )

    def command(
        self, text: str, *, user: str = "U0001", channel: str = "C0001", key: str | None = None
    ) -> httpx.Response:
        return self.post(self.command_body(text, user=user, channel=channel, key=key))

    def interaction_body(self, payload: dict[str, Any]) -> str:
        return urlencode({"payload": json.dumps(payload)})

    def interact(self, payload: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return self.post(self.interaction_body(payload), **kwargs)

    def _base(self, kind: str, user: str) -> dict[str, Any]:
        return {
            "type": kind,
            "team": {"id": self.team, "domain": "local"},
            "user": {"id": user, "team_id": self.team},
            "api_app_id": "A0001",
            "token": "legacy",
            "trigger_id": self.triggers(),
        }

    def click(
        self,
        button: dict[str, Any],
        *,
        user: str = "U0001",
        channel: str = "C0001",
        key: str | None = None,
    ) -> httpx.Response:
        """Click a button element (a dict from a message's blocks)."""
        payload = self._base("block_actions", user)
        payload.update(
            {
                "channel": {"id": channel},
                "container": {"type": "message", "channel_id": channel, "is_ephemeral": True},
                "response_url": self.response_url(key or uuid.uuid4().hex),
                "actions": [
                    {
                        "type": "button",
                        "action_id": button["action_id"],
                        "block_id": "confirm",
                        "value": button.get("value", ""),
                        "action_ts": str(time.time()),
                    }
                ],
            }
        )
        return self.interact(payload)

    def event(self, event: dict[str, Any], *, event_id: str | None = None) -> httpx.Response:
        """An Events API delivery (JSON), e.g. `{"type": "app_home_opened", "user": ...}`."""
        body = json.dumps(
            {
                "type": "event_callback",
                "token": "legacy",
                "team_id": self.team,
                "api_app_id": "A0001",
                "event": event,
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
                "event_time": int(time.time()),
            }
        )
        return self.post(body, headers={"Content-Type": "application/json"})

    def home_opened(self, *, user: str = "U0001") -> httpx.Response:
        return self.event({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D1"})

    def home_click(
        self,
        action_id: str,
        *,
        user: str = "U0001",
        value: str | None = None,
        block_id: str = "home_actions",
    ) -> httpx.Response:
        """Click a button of the App Home: no channel and no response_url, as Slack sends it
        (with the button's `value` when it has one)."""
        payload = self._base("block_actions", user)
        payload.update(
            {
                "container": {"type": "view", "view_id": f"HOME-{user}"},
                "view": {"id": f"HOME-{user}", "type": "home", "team_id": self.team},
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": block_id,
                        "action_ts": str(time.time()),
                        **({"value": value} if value is not None else {}),
                    }
                ],
            }
        )
        return self.interact(payload)

    def view_submission_payload(
        self, view: dict[str, Any], values: dict[str, Any], user: str = "U0001"
    ) -> dict[str, Any]:
        payload = self._base("view_submission", user)
        payload["view"] = {**view, "state": state_values(view, values)}
        return payload

    def submit(
        self, view: dict[str, Any], values: dict[str, Any] | None = None, *, user: str = "U0001"
    ) -> httpx.Response:
        return self.interact(self.view_submission_payload(view, values or {}, user))

    def message_action(
        self,
        callback_id: str,
        message: dict[str, Any],
        *,
        user: str = "U0001",
        channel: str = "C0001",
        key: str | None = None,
    ) -> httpx.Response:
        """A message shortcut on `message` (`{"text": ..., "ts": ...}`) in `channel`."""
        payload = self._base("message_action", user)
        ts = str(message.get("ts") or f"{time.time():.6f}")
        payload.update(
            {
                "callback_id": callback_id,
                "user": {"id": user, "name": user.lower(), "team_id": self.team},
                "channel": {"id": channel, "name": "local"},
                "message_ts": ts,
                "message": {"type": "message", **message, "ts": ts},
                "response_url": self.response_url(key or uuid.uuid4().hex),
                "action_ts": str(time.time()),
            }
        )
        return self.interact(payload)

    def options(
        self, action_id: str, typed: str, *, block_id: str = "targets", user: str = "U0001"
    ) -> httpx.Response:
        """A type-ahead request; an answer Slack would not show raises SlackRefusal."""
        payload = self._base("block_suggestion", user)
        payload.update({"action_id": action_id, "block_id": block_id, "value": typed})
        answer = self.interact(payload)
        if answer.status_code == 200:
            check_options_answer(answer.content)
        return answer
