"""A local fake of Slack's Web API that records every call and keeps channels, threads and views.

It is strict: it refuses what real Slack refuses, with Slack's error codes, from Slack's reference.
Every `blocks`, `view` and response_url post is checked with slack_sdk's Block Kit models plus
what they miss (`limits.py`); trigger ids are issued here and work once within 3 seconds; a
`U…` id posted to answers the DM's `D…` id, which later calls need; `conversations.replies`
gives at most 15 messages a page. Slack's rate limits hold by default, on the fake's clock
(`pace.py`: posts per channel, edits and thread reads per workspace), answered with 429 and
Retry-After as Slack does. Tests switch faults on per method or channel (errors, 429 with
Retry-After). A test whose code under test breaks a rule on purpose can `relax()` that rule.
Point a `slack_sdk.WebClient(base_url=server.api_url)` at it.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.clock import SYSTEM_CLOCK, Clock
from bot.devkit.fakeslack.limits import (
    SlackRefusal,
    check_blocks,
    check_message_text,
    check_view,
)
from bot.devkit.fakeslack.pace import REPLIES_PER_MINUTE, SlackPace
from bot.devkit.threaded_server import ThreadedServer

TRIGGER_SECONDS = 3.0
RESPONSE_URL_POSTS = 5
RESPONSE_URL_SECONDS = 30 * 60
REPLIES_PAGE = 15
# users.list answers fewer than asked (Slack: "fewer than the requested number of items may be
# returned"), so a caller that does not follow next_cursor misses members.
USERS_PAGE_MOST = 50
USERS_LIMIT_MOST = 1000
# Rules a test may relax (see `relax`), each named after what it checks.
RULES = ("dm_channel", "trigger_ids", "limits", "rate_limits")
CHANNEL_METHODS = {
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "chat.delete",
    "conversations.replies",
}
CHANNEL_FAULTS = {"not_in_channel", "channel_not_found", "is_archived"}
# users.info's `tz_label` for the zone abbreviations the tests meet.
ZONE_LABELS = {
    "UTC": "Coordinated Universal Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
}
# Scopes a method needs when the test grants a narrower set (`FakeSlack.scopes`).
METHOD_SCOPES = {"files.info": "files:read", "users.info": "users:read"}
FILE_TYPES = {"csv": "text/csv", "txt": "text/plain", "text": "text/plain"}


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = 0.0  # the fake's clock (monotonic) when the call came


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


@dataclass
class SlackFile:
    """A file someone uploaded (in a modal's file_input, say); `content` is what it holds."""

    id: str
    name: str
    filetype: str
    mimetype: str
    content: bytes
    user: str
    created: int

    def info(self, files_url: str, team: str) -> dict[str, Any]:
        """The file object of files.info (the fields the bot may read)."""
        name = quote(self.name)
        private = f"{files_url}/{team}-{self.id}/{name}"
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.name,
            "mimetype": self.mimetype,
            "filetype": self.filetype,
            "pretty_type": self.filetype.upper(),
            "user": self.user,
            "user_team": team,
            "size": len(self.content),
            "mode": "hosted",
            "is_external": False,
            "is_public": False,
            "url_private": private,
            "url_private_download": f"{files_url}/{team}-{self.id}/download/{name}",
        }


@dataclass
class FileDownload:
    """One GET of a file's url_private_download, as the fake saw it."""

    file_id: str
    host: str
    token: str | None
    served: bool


@dataclass
class _RateLimit:
    times: int
    retry_after: int
    channel: str | None


@dataclass
class _Failure:
    error: str
    channel: str | None


@dataclass
class _ResponseUrl:
    first_at: float
    posts: int = 0


class FakeSlack:
    """The recorded state of the fake workspace(s); thread-safe."""

    def __init__(
        self,
        valid_tokens: set[str] | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        replies_per_minute: int | None = REPLIES_PER_MINUTE,
    ) -> None:
        self._lock = threading.RLock()
        self.clock = clock
        self._last_us = 0
        self._view_ids = itertools.count(1)
        self.valid_tokens = valid_tokens  # None: any token is accepted
        # Slack's rate limits; replies_per_minute None: thread reads are not limited.
        self.pace = SlackPace(replies_per_minute=replies_per_minute)
        self.limited: list[SlackCall] = []  # the calls answered 429 (by a test's fault or a limit)
        self.relaxed: set[str] = set()
        self.calls: list[SlackCall] = []
        self.messages: list[SlackMessage] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.oauth_grants: dict[str, dict[str, Any]] = {}
        self._rate_limits: dict[str, list[_RateLimit]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self.channel_faults: dict[str, str] = {}
        self._triggers: dict[str, float] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.listeners: list[Callable[[str, SlackMessage | dict[str, Any]], None]] = []
        self.team = "T0001"
        # None: every scope is granted; else the bot token's scopes (missing_scope beyond them).
        self.scopes: set[str] | None = None
        self.files: dict[str, SlackFile] = {}
        self.files_url = "http://127.0.0.1/files-pri"  # set by FakeSlackServer to its own
        self.downloads: list[FileDownload] = []
        self.download_redirects: dict[str, str] = {}

    # ----------------------------------------------------------- test controls
    def rate_limit(
        self, method: str, times: int = 1, *, retry_after: int = 1, channel: str | None = None
    ) -> None:
        """Answer the next `times` calls of `method` (to `channel`, if given) with 429."""
        with self._lock:
            self._rate_limits.setdefault(method, []).append(_RateLimit(times, retry_after, channel))

    def fail(self, method: str, error: str, times: int = 1, *, channel: str | None = None) -> None:
        """Answer the next `times` calls of `method` with {"ok": false, "error": error}."""
        with self._lock:
            self._failures.setdefault(method, []).extend([_Failure(error, channel)] * times)

    def fault_channel(self, channel: str, error: str | None) -> None:
        """Every call on `channel` answers `error` (not_in_channel, ...) from now; None ends it."""
        if error is not None and error not in CHANNEL_FAULTS:
            raise ValueError(f"not a channel fault: {error}")
        with self._lock:
            if error is None:
                self.channel_faults.pop(channel, None)
            else:
                self.channel_faults[channel] = error

    def relax(self, rule: str) -> None:
        """Stop enforcing one rule (for a test whose code under test is known to break it)."""
        if rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}; one of {RULES}")
        self.relaxed.add(rule)

    def issue_trigger(self) -> str:
        """A trigger_id as Slack puts in a command or interaction: works once, within 3 s."""
        with self._lock:
            trigger = f"{int(self.clock.monotonic() * 1000)}.{uuid.uuid4().hex[:12]}"
            self._triggers[trigger] = self.clock.monotonic()
            return trigger

    def add_user(
        self,
        user_id: str,
        *,
        is_admin: bool = False,
        name: str = "",
        is_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        tz: str = "UTC",
    ) -> None:
        """A member as users.info answers it; `tz` is the IANA zone set in their Slack profile
        (`tz_label` and `tz_offset`, in seconds, are read from it as of now)."""
        with self._lock:
            self.users[user_id] = {
                "id": user_id,
                "team_id": self.team,
                "name": name or user_id.lower(),
                "real_name": name or user_id,
                "is_admin": is_admin,
                "is_owner": is_owner,
                "is_bot": is_bot,
                "deleted": deleted,
                "tz": tz,
                "tz_label": "",
                "tz_offset": 0,
            }

    def _user(self, user_id: str) -> dict[str, Any]:
        """The member with their zone's label and offset as of now (they move with DST)."""
        user = dict(self.users[user_id])
        local = self.clock.now().astimezone(ZoneInfo(user["tz"]))
        offset = local.utcoffset()
        user["tz_offset"] = int(offset.total_seconds()) if offset is not None else 0
        user["tz_label"] = _zone_label(local)
        return user

    def respond(self, key: str, payload: dict[str, Any]) -> None:
        """A POST to a command's or action's response_url (at most 5, within 30 minutes)."""
        with self._lock:
            used = self._response_urls.setdefault(key, _ResponseUrl(self.clock.monotonic()))
            if self.clock.monotonic() - used.first_at > RESPONSE_URL_SECONDS:
                raise SlackRefusal("expired_url")
            if used.posts >= RESPONSE_URL_POSTS:
                raise SlackRefusal("used_url")
            if "limits" not in self.relaxed:
                check_blocks(payload.get("blocks"))
            used.posts += 1
            self.responses.append((key, payload))
            self._notify("response", payload)

    def upload_file(
        self, name: str, content: bytes, *, filetype: str | None = None, user: str = "U0001"
    ) -> str:
        """A file as a person uploads it (in a file_input, say): answers its `F…` id."""
        kind = filetype or name.rsplit(".", 1)[-1].lower()
        mimetype = FILE_TYPES.get(kind, "application/octet-stream")
        with self._lock:
            file_id = f"F{uuid.uuid4().hex[:10].upper()}"
            created = int(self.clock.now().timestamp())
            self.files[file_id] = SlackFile(file_id, name, kind, mimetype, content, user, created)
            return file_id

    def file_object(self, file_id: str) -> dict[str, Any]:
        """What a view_submission carries for an uploaded file (`state...files[]`)."""
        with self._lock:
            return self.files[file_id].info(self.files_url, self.team)

    def redirect_download(self, file_id: str, to: str) -> None:
        """The file's download answers a redirect to `to` (another host, say) from now."""
        with self._lock:
            self.download_redirects[file_id] = to

    def download(self, file_id: str, host: str, token: str | None) -> SlackFile | str | None:
        """A GET of url_private_download: the file for the right bearer token, a URL to
        redirect to, or None (Slack then sends the browser to its sign-in page)."""
        with self._lock:
            found = self.files.get(file_id)
            allowed = found is not None and self._token_ok(token) and self._has_scope("files:read")
            self.downloads.append(FileDownload(file_id, host, token, allowed))
            if not allowed:
                return None
            return self.download_redirects.get(file_id) or found

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

    @staticmethod
    def dm_of(user_id: str) -> str:
        """The `D…` id of the app's DM with a user."""
        return f"D{user_id[1:]}"

    # ----------------------------------------------------------- dispatch
    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.calls.append(SlackCall(method, args, token, self.clock.monotonic()))
            channel = str(args.get("channel") or "") or None
            limited = self._take_rate_limit(method, channel, token)
            if limited is not None:
                self.limited.append(self.calls[-1])
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(limited)}
            failure = self._take_failure(method, channel)
            if failure is not None:
                return 200, {"ok": False, "error": failure}, {}
            if method != "oauth.v2.access" and not self._token_ok(token):
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            handler = _METHODS.get(method)
            if handler is None:
                return 200, {"ok": False, "error": "unknown_method"}, {}
            needed = METHOD_SCOPES.get(method)
            if needed and not self._has_scope(needed):
                return 200, {"ok": False, "error": "missing_scope", "needed": needed}, {}
            try:
                if method in CHANNEL_METHODS:
                    args = {**args, "channel": self._channel(method, _required(args, "channel"))}
                return 200, {"ok": True, **handler(self, args)}, {}
            except SlackRefusal as refusal:
                body: dict[str, Any] = {"ok": False, "error": refusal.error}
                if refusal.detail:
                    body["response_metadata"] = {"messages": [f"[ERROR] {refusal.detail}"]}
                return 200, body, {}

    def _take_rate_limit(self, method: str, channel: str | None, token: str | None) -> int | None:
        for limit in self._rate_limits.get(method, []):
            if limit.times > 0 and limit.channel in (None, channel):
                limit.times -= 1
                return limit.retry_after
        if "rate_limits" in self.relaxed:
            return None
        # One workspace per bot token: its limits are the workspace's.
        return self.pace.retry_after(method, token or "", channel, self.clock.monotonic())

    def _take_failure(self, method: str, channel: str | None) -> str | None:
        pending = self._failures.get(method) or []
        for index, failure in enumerate(pending):
            if failure.channel in (None, channel):
                return pending.pop(index).error
        return None

    def _channel(self, method: str, channel: str) -> str:
        """The conversation a call addresses, or Slack's refusal (a fault, a user id)."""
        fault = self.channel_faults.get(channel)
        if fault is not None:
            raise SlackRefusal(fault)
        if channel[:1] not in ("U", "W") or method == "chat.postEphemeral":
            return channel
        if method == "chat.postMessage" or "dm_channel" in self.relaxed:
            return self.dm_of(channel)  # posting to a user opens the app's DM with them
        raise SlackRefusal("channel_not_found", "a user id is not a conversation id")

    def _token_ok(self, token: str | None) -> bool:
        if not token:
            return False
        return self.valid_tokens is None or token in self.valid_tokens

    def _has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def _next_ts(self) -> str:
        """Slack's ts is the post's time in seconds with microseconds, unique per channel."""
        now = round(self.clock.now().timestamp() * 1_000_000)
        self._last_us = max(now, self._last_us + 1)  # whole microseconds: floats would collide
        seconds, micros = divmod(self._last_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _notify(self, event: str, payload: SlackMessage | dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(event, payload)

    def _blocks(self, value: Any, most: int = 50) -> list[dict[str, Any]]:
        if "limits" in self.relaxed:
            return list(json.loads(value) if isinstance(value, str) else value or [])
        return check_blocks(value, most=most)

    def _view(self, value: Any) -> dict[str, Any]:
        if "limits" in self.relaxed:
            return dict(json.loads(value) if isinstance(value, str) else value)
        return check_view(value)

    def _use_trigger(self, args: dict[str, Any]) -> None:
        trigger = _required(args, "trigger_id")
        if "trigger_ids" in self.relaxed:
            return
        issued = self._triggers.pop(trigger, None)
        if issued is None:
            raise SlackRefusal("invalid_trigger_id")
        if self.clock.monotonic() - issued > TRIGGER_SECONDS:
            raise SlackRefusal("expired_trigger_id")

    # ----------------------------------------------------------- methods
    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"team_id": "T0001", "team": "Fake", "user_id": "UBOT", "bot_id": "BBOT", "url": ""}

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = _required(args, "channel")
        blocks = self._blocks(args.get("blocks"))
        text = check_message_text(args.get("text"))
        if not text and not blocks:
            raise SlackRefusal("no_text")
        thread_ts = args.get("thread_ts") or None
        if thread_ts and not any(m.channel == channel and m.ts == thread_ts for m in self.messages):
            raise SlackRefusal("thread_not_found")
        message = SlackMessage(channel, self._next_ts(), text, blocks, thread_ts)
        message.metadata = _metadata(args.get("metadata"))
        self.messages.append(message)
        self._notify("posted", message)
        return {"channel": channel, "ts": message.ts, "message": {"text": text, "ts": message.ts}}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, user = _required(args, "channel"), _required(args, "user")
        blocks = self._blocks(args.get("blocks"))
        text = check_message_text(args.get("text"))
        message = SlackMessage(channel, self._next_ts(), text, blocks, None, user)
        self.messages.append(message)
        self._notify("ephemeral", message)
        return {"message_ts": message.ts}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = _required(args, "channel"), _required(args, "ts")
        try:
            message = self.message(channel, ts)
        except KeyError:
            raise SlackRefusal("message_not_found") from None
        if "blocks" in args:
            message.blocks = self._blocks(args.get("blocks"))
        if "text" in args:
            message.text = check_message_text(args.get("text"))
        if "metadata" in args:
            message.metadata = _metadata(args.get("metadata"))
        message.edits += 1
        self._notify("updated", message)
        return {"channel": channel, "ts": ts, "text": message.text}

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = _required(args, "channel"), _required(args, "ts")
        try:
            message = self.message(channel, ts)
        except KeyError:
            raise SlackRefusal("message_not_found") from None
        self.messages.remove(message)
        self._notify("deleted", message)
        return {"channel": channel, "ts": ts}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = _required(args, "users").split(",")
        if len(users) != 1 or users[0][:1] not in ("U", "W"):
            raise SlackRefusal("user_not_found")
        return {"channel": {"id": self.dm_of(users[0])}}

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """Oldest first from `oldest` (or the parent), at most 15 a page, with a cursor."""
        channel, ts = _required(args, "channel"), _required(args, "ts")
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        try:
            parent = self.message(channel, ts)
        except KeyError:
            raise SlackRefusal("thread_not_found") from None
        found = [m for m in [parent, *self.thread(channel, ts)] if _in_range(m.ts, args)]
        limit = min(int(args.get("limit") or 1000), REPLIES_PAGE)
        start = int(args.get("cursor") or 0) if str(args.get("cursor") or "0").isdigit() else -1
        if start < 0:
            raise SlackRefusal("invalid_cursor")
        page = found[start : start + limit]
        has_more = start + limit < len(found)
        answer: dict[str, Any] = {
            "messages": [_as_history(m, with_metadata) for m in page],
            "has_more": has_more,
        }
        if has_more:
            answer["response_metadata"] = {"next_cursor": str(start + limit)}
        return answer

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        self._use_trigger(args)
        view = self._view(args.get("view"))
        return {"view": self._store_view(view, f"V{next(self._view_ids):06d}")}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._views_open(args)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._view(args.get("view"))
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = next(
                (k for k, v in self.views.items() if v.get("external_id") == args["external_id"]),
                None,
            )
        if not view_id or view_id not in self.views:
            raise SlackRefusal("not_found")
        return {"view": self._store_view(view, view_id)}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = _required(args, "user_id")
        view = self._view(args.get("view"))
        return {"view": self._store_view(view, f"HOME-{user}")}

    def _store_view(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        stored = {**view, "id": view_id, "hash": f"h{len(self.calls)}"}
        self.views[view_id] = stored
        self._notify("view", stored)
        return stored

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        found = self.files.get(_required(args, "file"))
        if found is None:
            raise SlackRefusal("file_not_found")
        return {"file": found.info(self.files_url, self.team), "comments": []}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = _required(args, "user")
        if user_id not in self.users:
            raise SlackRefusal("user_not_found")
        return {"user": self._user(user_id)}

    def _users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """Every member (bots and the deleted too), a page of at most `limit` (at most
        1,000; fewer may come) from the opaque cursor, `next_cursor` empty on the last page."""
        limit = int(args.get("limit") or USERS_LIMIT_MOST)
        if not 0 < limit <= USERS_LIMIT_MOST:
            raise SlackRefusal("invalid_limit")
        limit = min(limit, USERS_PAGE_MOST)
        members = sorted(self.users.values(), key=lambda user: str(user["id"]))
        cursor = str(args.get("cursor") or "")
        start = 0
        if cursor:
            if not cursor.startswith("dXNlcjp") or not cursor[7:].isdigit():
                raise SlackRefusal("invalid_cursor")
            start = int(cursor[7:])
        page = members[start : start + limit]
        after = start + limit
        next_cursor = f"dXNlcjp{after}" if after < len(members) else ""
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _usergroup_users(self, args: dict[str, Any]) -> dict[str, Any]:
        group = _required(args, "usergroup")
        if group not in self.usergroups:
            raise SlackRefusal("no_such_subteam")
        return {"users": list(self.usergroups[group])}

    def _oauth_access(self, args: dict[str, Any]) -> dict[str, Any]:
        grant = self.oauth_grants.pop(str(args.get("code", "")), None)
        if grant is None:
            raise SlackRefusal("invalid_code")
        return grant


def _in_range(ts: str, args: dict[str, Any]) -> bool:
    inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
    oldest, latest = args.get("oldest"), args.get("latest")
    if oldest and (float(ts) < float(oldest) or (float(ts) == float(oldest) and not inclusive)):
        return False
    return not latest or float(ts) < float(latest) or (float(ts) == float(latest) and inclusive)


def _metadata(value: Any) -> dict[str, Any] | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict) or "event_type" not in value or "event_payload" not in value:
        raise SlackRefusal("invalid_metadata_format")
    if not isinstance(value["event_payload"], dict):
        raise SlackRefusal("invalid_metadata_format")
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


def _zone_label(local: datetime) -> str:
    """Slack's `tz_label` spells the zone out ("Central European Time"); the fake gives the
    abbreviation's words where it knows them, else the abbreviation."""
    name = local.tzname() or "UTC"
    return ZONE_LABELS.get(name, name)


def _required(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not value:
        if name == "channel":
            raise SlackRefusal("channel_not_found")
        raise SlackRefusal("invalid_arguments", f"missing required field: {name}")
    return str(value)


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "chat.update": FakeSlack._update,
    "chat.delete": FakeSlack._delete,
    "conversations.replies": FakeSlack._replies,
    "conversations.open": FakeSlack._conversations_open,
    "views.open": FakeSlack._views_open,
    "views.push": FakeSlack._views_push,
    "views.update": FakeSlack._views_update,
    "views.publish": FakeSlack._views_publish,
    "files.info": FakeSlack._files_info,
    "users.info": FakeSlack._users_info,
    "users.list": FakeSlack._users_list,
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
        status, body, headers = fake.handle(request.path_params["method"], args, token)
        return JSONResponse(body, status_code=status, headers=headers or None)

    async def response_url(request: Request) -> JSONResponse:
        try:
            payload = json.loads(await request.body() or b"{}")
            fake.respond(request.path_params["key"], payload)
        except SlackRefusal as refusal:
            status = 404 if refusal.error in ("used_url", "expired_url") else 400
            return JSONResponse({"ok": False, "error": refusal.error}, status_code=status)
        except ValueError:
            return JSONResponse({"ok": False, "error": "invalid_payload"}, status_code=400)
        return JSONResponse({"ok": True})

    async def file_download(request: Request) -> Response:
        """Slack serves a private file only for a valid bearer token; anything else is sent to
        the sign-in page, as a browser without a session would be."""
        file_id = str(request.path_params["team_file"]).rpartition("-")[2]
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        found = fake.download(file_id, request.url.hostname or "", token)
        if isinstance(found, SlackFile):
            return Response(found.content, media_type=found.mimetype)
        if isinstance(found, str):
            return RedirectResponse(found, status_code=302)
        return RedirectResponse(f"/signin?redir={request.url.path}", status_code=302)

    async def sign_in(request: Request) -> HTMLResponse:
        return HTMLResponse("<html><body>Sign in to Slack</body></html>")

    return Starlette(
        routes=[
            Route("/api/{method}", api, methods=["GET", "POST"]),
            Route("/respond/{key}", response_url, methods=["POST"]),
            Route("/files-pri/{team_file}/download/{name}", file_download, methods=["GET"]),
            Route("/signin", sign_in, methods=["GET"]),
        ]
    )


class FakeSlackServer(ThreadedServer):
    """`with FakeSlackServer() as slack:`: `slack.api_url` for WebClient, `slack.fake` to read."""

    def __init__(self, fake: FakeSlack | None = None, port: int = 0) -> None:
        self.fake = fake or FakeSlack()
        super().__init__(create_app(self.fake), port=port)
        self.fake.files_url = f"{self.url}/files-pri"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str) -> str:
        """A response_url to put in a slash command or interaction payload."""
        return f"{self.url}/respond/{key}"

    def issue_trigger(self) -> str:
        """A trigger_id for a command or interaction payload (valid once, within 3 s)."""
        return self.fake.issue_trigger()
