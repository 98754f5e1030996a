"""Typed errors for what the Constant Contact API answers, keeping the API's own message."""

from __future__ import annotations

import json
from typing import Any

from bot.cc.models import Activity


class CCError(Exception):
    """Base of every error the client raises."""

    def __init__(self, message: str, *, status: int | None = None, error_key: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_key = error_key


class BadRequest(CCError):
    """400: the API refused the request's content."""


class Unauthorized(CCError):
    """401: the token is missing, wrong or expired (after one refresh attempt)."""


class Forbidden(CCError):
    """403: the user lacks a privilege or scope."""


class NotFound(CCError):
    """404."""


class Conflict(CCError):
    """409: e.g. a tag with that name exists already."""


class UnsupportedMediaType(CCError):
    """415."""


class RateLimited(CCError):
    """429: throttled (per second), quota_exceeded (per day) or too many queued activities."""

    def __init__(self, message: str, *, error_key: str = "", retry_after: float | None = None):
        super().__init__(message, status=429, error_key=error_key)
        self.retry_after = retry_after

    @property
    def is_daily_quota(self) -> bool:
        return self.error_key == "quota_exceeded"


class TooManyQueuedActivities(RateLimited):
    """429: the account has 1,000 activities queued; waiting seconds does not cure it."""


class ServerError(CCError):
    """5xx."""


class Timeout(CCError):
    """No answer in time (connect or read)."""


class TransportError(CCError):
    """The connection failed before any answer."""


class AuthError(Unauthorized):
    """The OAuth2 token endpoint refused (invalid_grant, invalid_client, ...).

    An Unauthorized too: either way the account must be connected again.
    """


RECONNECT = (
    "Constant Contact no longer accepts this workspace's authorization (the account may have "
    "been connected elsewhere since); type /cctag connect to reconnect"
)


class ConnectionBroken(AuthError):
    """Constant Contact refused the stored refresh token (`invalid_grant`): typically another
    deployment authorized the same account and application since, which retires the old
    tokens. The connection is marked broken; only connecting again mends it."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(RECONNECT, status=401, error_key="invalid_grant")
        self.detail = detail


class QuotaExhausted(CCError):
    """The day's request budget of the API key is spent; no call was made."""


class UnexpectedResponse(CCError):
    """A success status whose body is not what the V3 schema describes."""


class AmbiguousActivity(CCError):
    """A lost activity request's answer matched more than one recent activity (or one while
    another request of the account was in flight): nobody can tell which, if any, is ours."""

    def __init__(self, candidates: list[Activity]) -> None:
        ids = ", ".join(a.activity_id for a in candidates)
        super().__init__(
            "Constant Contact did not answer in time, and other activities started just then "
            f"({ids}); check them before trying again"
        )
        self.candidates = candidates


class StartInDoubt(CCError):
    """A request that starts an activity got no answer (a timeout, or a connection broken
    after sending), and the activity list does not show it yet: it may still be on its way
    and start later. Never sent again before Constant Contact is asked once no request could
    still be travelling (bot/usecases/launch.py settles it)."""

    def __init__(self, cause: CCError) -> None:
        super().__init__(
            f"Constant Contact did not answer in time ({cause.message}); whether it started is "
            "not known yet"
        )
        self.cause = cause


_BY_STATUS: dict[int, type[CCError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    415: UnsupportedMediaType,
}


def parse_error_body(text: str) -> tuple[str, str]:
    """(error_key, error_message) from a list of error objects, or a single one."""
    try:
        body: Any = json.loads(text)
    except ValueError:
        return "", text.strip()[:500]
    items = body if isinstance(body, list) else [body]
    keys, messages = [], []
    for item in items:
        if isinstance(item, dict):
            keys.append(str(item.get("error_key", "")))
            messages.append(str(item.get("error_message", "") or item.get("error", "")))
    return (keys[0] if keys else ""), "; ".join(m for m in messages if m)


def error_for(status: int, text: str, retry_after: float | None = None) -> CCError:
    key, message = parse_error_body(text)
    message = message or f"HTTP {status}"
    if status == 429:
        if key == "too_many_queued_activities" or "queued activities" in message:
            return TooManyQueuedActivities(message, error_key=key, retry_after=retry_after)
        return RateLimited(message, error_key=key, retry_after=retry_after)
    if status >= 500:
        return ServerError(message, status=status, error_key=key)
    cls = _BY_STATUS.get(status, CCError)
    return cls(message, status=status, error_key=key)
