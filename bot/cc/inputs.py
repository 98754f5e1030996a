"""Checks of values a person gives that become part of a Constant Contact URL or body.

Pure functions: each returns the value as the API wants it, or raises LimitError saying in
words what is wrong, so that nothing malformed is ever sent. The command grammar calls them
first; AccountClient calls them again as a guard, should a caller forget.
"""

from __future__ import annotations

import uuid

from bot.cc.models import (
    MAX_TAG_NAME,
    EngagementLevel,
    LimitError,
    name_within,
    validate_tag_name,
)

# The contract's segment ids are int32.
MAX_SEGMENT_ID = 2**31 - 1
MAX_LIST_NAME = 255
SHOWN = 40  # how much of a bad value a message repeats
EXAMPLE_UUID = "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a"

__all__ = [
    "MAX_TAG_NAME",
    "activity_id",
    "contact_id",
    "engagement_level",
    "job_id",
    "list_name",
    "segment_id",
    "tag_name",
]


def _shown(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= SHOWN else value[: SHOWN - 1] + "…"


def _uuid(value: str, what: str, missing: str) -> str:
    text = value.strip()
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        raise LimitError(
            f"{missing} `{_shown(text)}`: {what} is a UUID, such as {EXAMPLE_UUID}"
        ) from None
    if str(parsed) != text.lower():  # uuid.UUID also takes braces, urn: and no hyphens
        raise LimitError(f"{missing} `{_shown(text)}`: {what} is a UUID, such as {EXAMPLE_UUID}")
    return text.lower()


def activity_id(value: str) -> str:
    """An activity id: a UUID (lower-cased)."""
    return _uuid(value, "an activity id", "No activity")


def contact_id(value: str) -> str:
    """A contact id: a UUID (lower-cased)."""
    return _uuid(value, "a contact id", "No contact")


def job_id(value: str) -> str:
    """A job id (cctag's own, for several activities started as one): a UUID."""
    return _uuid(value, "a job id", "No job")


def segment_id(value: str | int) -> int:
    """A segment id: a whole number from 1 to 2,147,483,647 (the contract's int32)."""
    text = str(value).strip()
    if not text.isdigit() or not text.isascii():
        raise LimitError(f"`{_shown(text)}` is not a segment id: a segment id is a whole number")
    number = int(text)
    if not 1 <= number <= MAX_SEGMENT_ID:
        raise LimitError(
            f"{number} is not a segment id: segment ids run from 1 to {MAX_SEGMENT_ID:,}"
        )
    return number


def engagement_level(value: str) -> EngagementLevel:
    """One of unqualified, low, medium, high, in any case."""
    text = value.strip().lower()
    try:
        return EngagementLevel(text)
    except ValueError:
        levels = ", ".join(level.value for level in EngagementLevel)
        raise LimitError(
            f"`{_shown(value.strip())}` is not an engagement level: choose one of {levels}"
        ) from None


def tag_name(value: str) -> str:
    """A tag name: 1 to 255 characters (the contract's TagPost), no < or >."""
    return validate_tag_name(value)


def list_name(value: str) -> str:
    """A list name to look up: 1 to 255 characters."""
    return name_within(value, "list", MAX_LIST_NAME)
