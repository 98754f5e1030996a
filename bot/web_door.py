"""The door of `/slack/events`: a request is signed by Slack before its body is read as JSON or
a form, and a body that bolt could not read is answered 400 here, never a 500 or a traceback."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

# Slack's own payloads stay far below this (a modal's state, a 40,000-character message).
MAX_BODY = 2 * 1024 * 1024
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
# Slack's rule: a request older (or newer) than five minutes may be a replay.
MAX_SKEW = 5 * 60


class _Envelope(BaseModel):
    """The parts of a payload that bolt and the listeners index into, in the types Slack sends
    them; anything else is let through as it is."""

    model_config = ConfigDict(extra="allow")

    type: str | None = None
    team: dict[str, Any] | None = None
    user: dict[str, Any] | None = None
    enterprise: dict[str, Any] | None = None
    channel: dict[str, Any] | None = None
    container: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    view: dict[str, Any] | None = None
    event: dict[str, Any] | None = None
    actions: list[dict[str, Any]] | None = None
    authorizations: list[dict[str, Any]] | None = None


class Refusal(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.response: Response = PlainTextResponse(reason, status_code=status)


async def signed_body(request: Request, secret: str) -> bytes:
    """The body, once its size, signature and shape are known to be good; else Refusal."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise Refusal(413, "request body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise Refusal(413, "request body too large")
    if not _signed(secret, bytes(body), request.headers):
        raise Refusal(401, "invalid request signature")
    _readable(bytes(body), request.headers.get("content-type"))
    return bytes(body)


def _signed(secret: str, body: bytes, headers: Any) -> bool:
    """Slack's v0 signature over the body's bytes (slack_sdk's verifier decodes them first,
    and a body that is not UTF-8 would fail there instead of being refused)."""
    timestamp = headers.get("x-slack-request-timestamp") or ""
    signature = headers.get("x-slack-signature") or ""
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False
    if abs(time.time() - int(timestamp)) > MAX_SKEW:
        return False
    signed = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _readable(raw: bytes, content_type: str | None) -> None:
    """What bolt will parse (slack_bolt.request.internals.parse_body) parses to an object."""
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8") from None
    if not body:
        return
    if content_type == "application/json" or body.startswith("{"):
        _json_object(body)
    elif "payload" in body:
        payload = dict(parse_qsl(body, keep_blank_values=True)).get("payload")
        if payload is not None:
            _json_object(payload)


def _json_object(text: str) -> None:
    try:
        parsed = json.loads(text)
    except ValueError:
        raise Refusal(400, "the payload is not JSON") from None
    if not isinstance(parsed, dict):
        raise Refusal(400, "the payload is not a JSON object")
    try:
        _Envelope.model_validate(parsed)
    except ValidationError:
        raise Refusal(400, "the payload is not shaped as Slack sends it") from None
