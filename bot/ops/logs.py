"""Logs: plain text by default, one JSON object a line with CCTAG_LOG_FORMAT=json.

A JSON line holds time, level, logger, message and the ids of the request or activity being
worked on (team, user, channel, activity, job), which the pipeline's entry and the poller set
with `log_ids`. Every line of either format goes through `Redact`: the configured secrets and
anything shaped like a token are cut out before it is written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
IDS = ("team", "user", "channel", "activity", "job")
REDACTED = "[redacted]"
# Slack tokens, bearer credentials, and key=value pairs whose name says secret.
TOKEN_SHAPES = re.compile(
    r"xox[abpre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]+"
    r"|(?i:(?:access|refresh)_token|client_secret|password|secret)([\"']?\s*[:=]\s*[\"']?)[^\s\"'&,]+"
)
MIN_SECRET = 6  # shorter values would cut ordinary words out of lines

_ids: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "cctag_log_ids", default=None
)


@contextmanager
def log_ids(**ids: str | None) -> Iterator[None]:
    """The ids of what this thread works on, on every line it logs until the block ends."""
    merged = {**(_ids.get() or {}), **{k: v for k, v in ids.items() if v}}
    token = _ids.set(merged)
    try:
        yield
    finally:
        _ids.reset(token)


class Followed(Protocol):
    @property
    def workspace_id(self) -> str: ...
    @property
    def channel_id(self) -> str: ...
    @property
    def activity_id(self) -> str: ...
    @property
    def job_id(self) -> str | None: ...


def activity_ids(tracked: Followed) -> dict[str, str | None]:
    """The ids a followed activity's lines carry."""
    return {
        "team": tracked.workspace_id,
        "channel": tracked.channel_id,
        "activity": tracked.activity_id,
        "job": tracked.job_id,
    }


class Redact(logging.Filter):
    """Cuts the known secrets and token-shaped strings out of a record's final text."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: list[str] = []

    def add(self, secrets: Iterable[str | None]) -> None:
        found = {s for s in secrets if s and len(s) >= MIN_SECRET}
        self._secrets = sorted(set(self._secrets) | found, key=len, reverse=True)

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPES.sub(_cut, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.clean(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self.clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def _cut(found: re.Match[str]) -> str:
    text = found.group(0)
    if found.group(1) is not None:  # name=value: keep the name
        return text[: found.end(1) - found.start(0)] + REDACTED
    if text.lower().startswith("bearer"):
        return "Bearer " + REDACTED
    return REDACTED


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **(_ids.get() or {}),
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


REDACT = Redact()


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure(level: int, fmt: str) -> None:
    """The root logger writes to stderr in `fmt`; uncaught errors of any thread are logged too."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    handler.addFilter(REDACT)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    # httpx logs each request's URL, query string included (emails looked up): the metrics
    # count the requests instead.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if fmt == "json":
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_thread_uncaught


def redact_filter() -> Redact:
    """The one filter (a function, not a lambda: uvicorn's workers get the config pickled)."""
    return REDACT


def uvicorn_config(base: dict[str, Any], fmt: str) -> dict[str, Any]:
    """uvicorn's logging config, its handlers redacting and, for json, writing JSON."""
    config = dict(base)
    config["filters"] = {**config.get("filters", {}), "redact": {"()": redact_filter}}
    # The access lines (method, path without its query, status) hold nothing secret, and
    # uvicorn's text formatter needs their arguments unformatted.
    default = config["handlers"]["default"]
    default["filters"] = [*default.get("filters", []), "redact"]
    if fmt == "json":
        config["formatters"] = {name: {"()": JsonFormatter} for name in config["formatters"]}
    return config


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    logging.getLogger("cctag").critical("uncaught error", exc_info=(kind, value, tb))


def _log_thread_uncaught(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    logging.getLogger("cctag").error(
        "uncaught error in thread %s",
        args.thread.name if args.thread else "?",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
