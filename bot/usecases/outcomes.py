"""The shared vocabulary of the use cases' answers: a refusal, what emails came to, and the
small words every message uses. A leaf: it imports nothing else of bot/usecases, so every
module there may build on it without a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.cc.errors import CCError, QuotaExhausted, RateLimited

_T = TypeVar("_T")


class Refused(Exception):
    """Nothing was started; `message` says why, `fields` which input it was about."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.audited = False


@dataclass(frozen=True)
class People:
    """What the emails of a request came to: taggable contacts, emails unknown, contacts
    skipped (email, why), and the calls resolving them cost."""

    found: int
    not_found: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    calls: int = 0


def tag_exists(name: str) -> str:
    return (
        f"A tag named “{name.strip()}” exists already (tag names are unique, whatever their case)"
    )


def quoted(names: Sequence[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def unknown(what: str, names: Sequence[str]) -> str:
    word = what if len(names) == 1 else what + "s"
    return f"Unknown {word}: {quoted(names)}"


def unique(items: list[_T]) -> list[_T]:
    seen: list[_T] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def cc_message(exc: CCError) -> str:
    if isinstance(exc, (RateLimited, QuotaExhausted)):
        return f"Constant Contact is busy right now ({exc.message}); try again shortly"
    return f"Constant Contact refused: {exc.message}"
