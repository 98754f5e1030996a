"""Plain inputs of every use case: who acts, what they ask for, which contacts it touches."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    ADD_TAGS = "add_tags"
    REMOVE_TAGS = "remove_tags"
    DELETE_TAGS = "delete_tags"
    ADD_TO_LISTS = "add_to_lists"
    REMOVE_FROM_LISTS = "remove_from_lists"

    @property
    def targets_lists(self) -> bool:
        return self in (Action.ADD_TO_LISTS, Action.REMOVE_FROM_LISTS)


class SourceKind(StrEnum):
    CONTACTS = "contacts"
    LISTS = "lists"
    TAGS = "tags"
    ALL_ACTIVE = "all_active"
    NEW_SUBSCRIBERS = "new_subscribers"
    ENGAGEMENT = "engagement"
    SEGMENT = "segment"

    @property
    def takes_values(self) -> bool:
        return self not in (SourceKind.ALL_ACTIVE, SourceKind.NEW_SUBSCRIBERS)


# Which sources each action's API endpoint accepts.
SOURCES_FOR_TAGGING = (
    SourceKind.CONTACTS,
    SourceKind.LISTS,
    SourceKind.TAGS,
    SourceKind.ALL_ACTIVE,
    SourceKind.NEW_SUBSCRIBERS,
)
SOURCES_FOR_LIST_ADD = (
    SourceKind.CONTACTS,
    SourceKind.LISTS,
    SourceKind.TAGS,
    SourceKind.ALL_ACTIVE,
    SourceKind.ENGAGEMENT,
    SourceKind.SEGMENT,
)
SOURCES_FOR_LIST_REMOVE = (
    SourceKind.CONTACTS,
    SourceKind.LISTS,
    SourceKind.TAGS,
    SourceKind.ALL_ACTIVE,
    SourceKind.ENGAGEMENT,
)


def sources_for(action: Action) -> tuple[SourceKind, ...]:
    if action is Action.ADD_TO_LISTS:
        return SOURCES_FOR_LIST_ADD
    if action is Action.REMOVE_FROM_LISTS:
        return SOURCES_FOR_LIST_REMOVE
    return SOURCES_FOR_TAGGING


@dataclass(frozen=True)
class Actor:
    """Who asked, and where the answer goes."""

    workspace_id: str
    user_id: str
    channel_id: str


@dataclass(frozen=True)
class Source:
    """The contacts a request touches. `values`: emails or contact ids, list or tag names,
    an engagement level, or a segment id, as `kind` says; none for the two broad kinds."""

    kind: SourceKind
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class BulkRequest:
    """Add or remove tags (`targets` are tag names), or list memberships (list names)."""

    action: Action
    targets: tuple[str, ...]
    source: Source
    exclude_emails: tuple[str, ...] = field(default_factory=tuple)
