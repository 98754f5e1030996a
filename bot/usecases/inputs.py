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
    CLICKED = "clicked"
    OPENED = "opened"
    NOT_OPENED = "not-opened"
    BOUNCED = "bounced"

    @property
    def takes_values(self) -> bool:
        return self not in (SourceKind.ALL_ACTIVE, SourceKind.NEW_SUBSCRIBERS)

    @property
    def is_campaign(self) -> bool:
        """Who did what in a campaign: values are its name and, for clicked, a link's URL."""
        return self in CAMPAIGN_SOURCES


CAMPAIGN_SOURCES = frozenset(
    {SourceKind.CLICKED, SourceKind.OPENED, SourceKind.NOT_OPENED, SourceKind.BOUNCED}
)


@dataclass(frozen=True)
class Actor:
    workspace_id: str
    user_id: str


@dataclass(frozen=True)
class Source:
    """Contacts by email or id, lists or tags by name, an engagement level, a segment by name
    or id, or a campaign by name (with a link's URL after it for `clicked`)."""

    kind: SourceKind
    values: tuple[str, ...] = ()

    @property
    def link(self) -> str | None:
        return self.values[1] if self.kind.is_campaign and len(self.values) > 1 else None


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
