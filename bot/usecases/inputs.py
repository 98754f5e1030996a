"""Plain inputs of the use cases: who acts, which contacts, which tags or lists (by name)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Action = Literal["add", "remove"]


class SourceKind(StrEnum):
    """Where the contacts of a bulk activity come from (one-line flags without the dashes)."""

    CONTACTS = "contacts"
    LISTS = "lists"
    TAGS = "tags"
    ALL_ACTIVE = "all-active"
    NEW_SUBSCRIBERS = "new-subscribers"
    ENGAGEMENT = "engagement"
    SEGMENT = "segment"

    @property
    def takes_values(self) -> bool:
        return self not in (SourceKind.ALL_ACTIVE, SourceKind.NEW_SUBSCRIBERS)


@dataclass(frozen=True)
class Actor:
    workspace_id: str
    user_id: str


@dataclass(frozen=True)
class Source:
    """Contacts by email or id, lists or tags by name, an engagement level or a segment id."""

    kind: SourceKind
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaggingInput:
    action: Action
    tag_names: tuple[str, ...]
    source: Source
    exclude: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ListsInput:
    action: Action
    list_names: tuple[str, ...]
    source: Source
    exclude: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class DeleteInput:
    tag_names: tuple[str, ...]


BulkInput = TaggingInput | ListsInput | DeleteInput
