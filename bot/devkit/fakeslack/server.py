"""A local fake of Slack's Web API that records every call and keeps channels, threads and views.

It answers like Slack does (`{"ok": true, ...}` / `{"ok": false, "error": ...}`, 429 with
Retry-After when told to), and validates every `blocks` and `view` with slack_sdk's Block Kit
models, answering `invalid_blocks` as Slack would, so a malformed message fails a test.
Point a `slack_sdk.WebClient(base_url=server.api_url)` at it.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.devkit.threaded_server import ThreadedServer


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]
    token: str | None


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    user: str | None = None  # set for ephemeral messages
    edits: int = 0
    metadata: dict[str, Any] | None = None


class _SlackError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _validate_blocks(blocks: Any) -> list[dict[str, Any]]:
    if blocks in (None, "", []):
        return []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    try:
        for block in Block.parse_all(blocks):
            if block is None:
                raise _SlackError("invalid_blocks")
            block.validate_json()
    except SlackObjectFormationError as exc:
        raise _SlackError("invalid_blocks") from exc
    return list(blocks)


def _validate_view(view: Any) -> dict[str, Any]:
    if isinstance(view, str):
        view = json.loads(view)
    if not isinstance(view, dict):
        raise _SlackError("invalid_arguments")
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError) as exc:
        raise _SlackError("invalid_arguments") from exc
    _validate_blocks(view.get("blocks"))
    return view


class FakeSlack:
    """The recorded state of the fake workspace(s); thread-safe."""

    def __init__(self, valid_tokens: set[str] | None = None) -> None:
        self._lock = threading.RLock()
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self.valid_tokens = valid_tokens  # None: any token is accepted
        self.calls: list[SlackCall] = []
        self.messages: list[SlackMessage] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.oauth_grants: dict[str, dict[str, Any]] = {}
        self._rate_limited: dict[str, int] = {}
        self._failures: dict[str, list[str]] = {}
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.listeners: list[Callable[[str, SlackMessage | dict[str, Any]], None]] = []

    # ----------------------------------------------------------- test controls
    def rate_limit(self, method: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 and Retry-After: 1."""
        with self._lock:
            self._rate_limited[method] = self._rate_limited.get(method, 0) + times

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with {"ok": false, "error": error}."""
        with self._lock:
            self._failures.setdefault(method, []).extend([error] * times)

    def add_user(self, user_id: str, *, is_admin: bool = False, name: str = "") -> None:
        with self._lock:
            self.users[user_id] = {
                "id": user_id,
                "name": name or user_id.lower(),
                "real_name": name or user_id,
                "is_admin": is_admin,
                "is_owner": False,
                "tz": "UTC",
            }

    def respond(self, key: str, payload: dict[str, Any]) -> None:
        """A POST to a command's or action's response_url."""
        with self._lock:
            _validate_blocks(payload.get("blocks"))
            self.responses.append((key, payload))
            self._notify("response", payload)

    # ----------------------------------------------------------- queries
    def calls_to(self, method: str) -> list[SlackCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def channel_messages(self, channel: str) -> list[SlackMessage]:
        with self._lock:
            return [m for m in self.messages if m.channel == channel and m.thread_ts is None]

    def thread(self, channel: str, parent_ts: str) -> list[SlackMessage]:
        with self._lock:
            return [m for m in self.messages if m.channel == channel and m.thread_ts == parent_ts]

    def message(self, channel: str, ts: str) -> SlackMessage:
        with self._lock:
            for m in self.messages:
                if m.channel == channel and m.ts == ts:
                    return m
        raise KeyError((channel, ts))

    # ----------------------------------------------------------- dispatch
    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(SlackCall(method, args, token))
            if self._rate_limited.get(method, 0) > 0:
                self._rate_limited[method] -= 1
                return 429, {"ok": False, "error": "ratelimited"}
            pending = self._failures.get(method)
            if pending:
                return 200, {"ok": False, "error": pending.pop(0)}
            if method != "oauth.v2.access" and not self._token_ok(token):
                return 200, {"ok": False, "error": "invalid_auth"}
            handler = _METHODS.get(method)
            if handler is None:
                return 200, {"ok": False, "error": "unknown_method"}
            try:
                return 200, {"ok": True, **handler(self, args)}
            except _SlackError as exc:
                return 200, {"ok": False, "error": exc.error}

    def _token_ok(self, token: str | None) -> bool:
        if not token:
            return False
        return self.valid_tokens is None or token in self.valid_tokens

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _notify(self, event: str, payload: SlackMessage | dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(event, payload)

    # ----------------------------------------------------------- methods
    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"team_id": "T0001", "team": "Fake", "user_id": "UBOT", "bot_id": "BBOT", "url": ""}

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = _required(args, "channel")
        blocks = _validate_blocks(args.get("blocks"))
        text = str(args.get("text") or "")
        if not text and not blocks:
            raise _SlackError("no_text")
        thread_ts = args.get("thread_ts") or None
        if thread_ts and not any(m.channel == channel and m.ts == thread_ts for m in self.messages):
            raise _SlackError("thread_not_found")
        message = SlackMessage(channel, self._next_ts(), text, blocks, thread_ts)
        message.metadata = _metadata(args.get("metadata"))
        self.messages.append(message)
        self._notify("posted", message)
        return {"channel": channel, "ts": message.ts, "message": {"text": text, "ts": message.ts}}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, user = _required(args, "channel"), _required(args, "user")
        blocks = _validate_blocks(args.get("blocks"))
        message = SlackMessage(
            channel, self._next_ts(), str(args.get("text") or ""), blocks, None, user
        )
        self.messages.append(message)
        self._notify("ephemeral", message)
        return {"message_ts": message.ts}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = _required(args, "channel"), _required(args, "ts")
        try:
            message = self.message(channel, ts)
        except KeyError:
            raise _SlackError("message_not_found") from None
        if "blocks" in args:
            message.blocks = _validate_blocks(args.get("blocks"))
        if "text" in args:
            message.text = str(args.get("text") or "")
        if "metadata" in args:
            message.metadata = _metadata(args.get("metadata"))
        message.edits += 1
        self._notify("updated", message)
        return {"channel": channel, "ts": ts, "text": message.text}

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = _required(args, "channel"), _required(args, "ts")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        try:
            parent = self.message(channel, ts)
        except KeyError:
            raise _SlackError("thread_not_found") from None
        found = [parent, *self.thread(channel, ts)]
        return {"messages": [_as_history(m, with_metadata) for m in found], "has_more": False}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        _required(args, "trigger_id")
        view = _validate_view(args.get("view"))
        return {"view": self._store_view(view, f"V{next(self._view_ids):06d}")}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._views_open(args)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = _validate_view(args.get("view"))
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next(
                (k for k, v in self.views.items() if v.get("external_id") == args["external_id"]),
                None,
            )
        if not view_id or view_id not in self.views:
            raise _SlackError("not_found")
        return {"view": self._store_view(view, view_id)}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = _required(args, "user_id")
        view = _validate_view(args.get("view"))
        return {"view": self._store_view(view, f"HOME-{user}")}

    def _store_view(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        stored = {**view, "id": view_id, "hash": f"h{len(self.calls)}"}
        self.views[view_id] = stored
        self._notify("view", stored)
        return stored

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(_required(args, "user"))
        if user is None:
            raise _SlackError("user_not_found")
        return {"user": user}

    def _usergroup_users(self, args: dict[str, Any]) -> dict[str, Any]:
        group = _required(args, "usergroup")
        if group not in self.usergroups:
            raise _SlackError("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _oauth_access(self, args: dict[str, Any]) -> dict[str, Any]:
        grant = self.oauth_grants.pop(str(args.get("code", "")), None)
        if grant is None:
            raise _SlackError("invalid_code")
        return grant


def _metadata(value: Any) -> dict[str, Any] | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict) or "event_type" not in value or "event_payload" not in value:
        raise _SlackError("invalid_metadata_format")
    return value


def _as_history(message: SlackMessage, with_metadata: bool) -> dict[str, Any]:
    found: dict[str, Any] = {"type": "message", "ts": message.ts, "text": message.text}
    if message.thread_ts:
        found["thread_ts"] = message.thread_ts
    if message.blocks:
        found["blocks"] = message.blocks
    if with_metadata and message.metadata:
        found["metadata"] = message.metadata
    return found


def _required(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not value:
        raise _SlackError(f"missing_argument:{name}" if name != "channel" else "channel_not_found")
    return str(value)


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.update": FakeSlack._update,
    "conversations.replies": FakeSlack._replies,
    "views.open": FakeSlack._views_open,
    "views.push": FakeSlack._views_push,
    "views.update": FakeSlack._views_update,
    "views.publish": FakeSlack._views_publish,
    "users.info": FakeSlack._users_info,
    "usergroups.users.list": FakeSlack._usergroup_users,
    "oauth.v2.access": FakeSlack._oauth_access,
}


async def _read_args(request: Request) -> dict[str, Any]:
    body = await request.body()
    args: dict[str, Any] = dict(request.query_params)
    if not body:
        return args
    if request.headers.get("content-type", "").startswith("application/json"):
        args.update(json.loads(body))
    else:
        args.update(parse_qsl(body.decode()))
    return args


def create_app(fake: FakeSlack) -> Starlette:
    async def api(request: Request) -> JSONResponse:
        args = await _read_args(request)
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
        status, body = fake.handle(request.path_params["method"], args, token)
        headers = {"Retry-After": "1"} if status == 429 else None
        return JSONResponse(body, status_code=status, headers=headers)

    async def response_url(request: Request) -> JSONResponse:
        try:
            fake.respond(request.path_params["key"], json.loads(await request.body() or b"{}"))
        except _SlackError as exc:
            return JSONResponse({"ok": False, "error": exc.error}, status_code=400)
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/api/{method}", api, methods=["GET", "POST"]),
            Route("/respond/{key}", response_url, methods=["POST"]),
        ]
    )


class FakeSlackServer(ThreadedServer):
    """`with FakeSlackServer() as slack:`: `slack.api_url` for WebClient, `slack.fake` to read."""

    def __init__(self, fake: FakeSlack | None = None, port: int = 0) -> None:
        self.fake = fake or FakeSlack()
        super().__init__(create_app(self.fake), port=port)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str) -> str:
        """A response_url to put in a slash command or interaction payload."""
        return f"{self.url}/respond/{key}"
