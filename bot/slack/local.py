"""Requests as Slack signs and sends them, for `cctag shell`, the tests and the bench.

Slash commands are form fields; interactivity and options are `payload=<json>`; each request
carries `X-Slack-Request-Timestamp` and the v0 `X-Slack-Signature` over `v0:<ts>:<body>`.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.web import EVENTS_PATH


def signed_headers(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


def command_body(
    text: str,
    *,
    team: str,
    user: str,
    channel: str,
    response_url: str,
    trigger_id: str | None = None,
) -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": team,
            "channel_id": channel,
            "user_id": user,
            "command": "/cctag",
            "text": text,
            "response_url": response_url,
            "trigger_id": trigger_id or f"trigger-{uuid.uuid4().hex}",
            "api_app_id": "A0CCTAG",
        }
    )


def payload_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def button_click(
    action_id: str, value: str, *, team: str, user: str, channel: str, response_url: str
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": team},
        "user": {"id": user, "team_id": team},
        "channel": {"id": channel},
        "api_app_id": "A0CCTAG",
        "trigger_id": f"trigger-{uuid.uuid4().hex}",
        "response_url": response_url,
        "container": {"type": "message", "is_ephemeral": True},
        "actions": [
            {"type": "button", "action_id": action_id, "block_id": "confirm", "value": value}
        ],
    }


def view_submission(
    view: dict[str, Any], values: dict[str, Any], *, team: str, user: str
) -> dict[str, Any]:
    submitted = {**view, "state": {"values": values}}
    return {
        "type": "view_submission",
        "team": {"id": team},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A0CCTAG",
        "trigger_id": f"trigger-{uuid.uuid4().hex}",
        "view": submitted,
    }


class SlackSender:
    """Posts signed requests to a web app's /slack/events."""

    def __init__(self, base_url: str, secret: str, http: httpx.Client | None = None) -> None:
        self.url = base_url.rstrip("/") + EVENTS_PATH
        self.secret = secret
        self.http = http or httpx.Client(timeout=10.0)

    def post(self, body: str, extra_headers: dict[str, str] | None = None) -> httpx.Response:
        headers = signed_headers(self.secret, body) | (extra_headers or {})
        return self.http.post(self.url, content=body, headers=headers)

    def close(self) -> None:
        self.http.close()
