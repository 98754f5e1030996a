"""Why a request is refused, said so a person can fix it, and which input it is about."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.cc.errors import CCError, Conflict, Forbidden, QuotaExhausted, RateLimited, Unauthorized

# Which input a problem is about (the modal puts the message under that field).
TARGETS = "targets"
SOURCE = "source"
EXCLUDE = "exclude"
NAME = "name"
GENERAL = "general"


class Refused(Exception):
    """Nothing was started; `problems` maps an input (TARGETS, SOURCE, ...) to what is wrong."""

    def __init__(self, problems: Mapping[str, str] | str) -> None:
        self.problems = dict(problems) if not isinstance(problems, str) else {GENERAL: problems}
        self.audited = False  # set once the refusal is in the audit log
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return "\n".join(self.problems.values())


def unknown(what: str, names: Iterable[str]) -> str:
    listed = ", ".join(f"“{name}”" for name in names)
    return f"Unknown {what}: {listed}"


def explain(error: CCError) -> str:
    """What went wrong at Constant Contact, in words a Slack user can act on."""
    if isinstance(error, Unauthorized):
        return "Constant Contact refused this workspace's access; reconnect with `/cctag connect`."
    if isinstance(error, Forbidden):
        return f"Constant Contact does not allow this for the connected user: {error.message}"
    if isinstance(error, QuotaExhausted) or (
        isinstance(error, RateLimited) and error.is_daily_quota
    ):
        return "Today's Constant Contact request budget is spent; it resets at 00:00 UTC."
    if isinstance(error, RateLimited):
        return f"Constant Contact is busy ({error.message}); try again in a minute."
    if isinstance(error, Conflict):
        return f"Constant Contact refused it as a conflict: {error.message}"
    return f"Constant Contact answered: {error.message}"
