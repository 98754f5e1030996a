"""What a submitted modal holds (its `view.state.values`), as plain use-case inputs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.usecases import EXCLUDE, GENERAL, SOURCE, TARGETS, Action, BulkRequest, Source, SourceKind

BLOCK_TARGETS = "targets"
BLOCK_DIRECTION = "direction"
BLOCK_SOURCE_KIND = "source_kind"
BLOCK_CONTACTS = "source_contacts"
BLOCK_SOURCE_LISTS = "source_lists"
BLOCK_SOURCE_TAGS = "source_tags"
BLOCK_ENGAGEMENT = "source_engagement"
BLOCK_SEGMENT = "source_segment"
BLOCK_EXCLUDE = "exclude"
BLOCK_NAME = "name"
BLOCK_TAG_SOURCE = "tag_source"

SOURCE_BLOCKS = {
    SourceKind.CONTACTS: BLOCK_CONTACTS,
    SourceKind.LISTS: BLOCK_SOURCE_LISTS,
    SourceKind.TAGS: BLOCK_SOURCE_TAGS,
    SourceKind.ENGAGEMENT: BLOCK_ENGAGEMENT,
    SourceKind.SEGMENT: BLOCK_SEGMENT,
}
SEPARATORS = re.compile(r"[\s,;]+")

Values = dict[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class Picked:
    """An option chosen in a select: its value and what it showed."""

    value: str
    name: str


def _element(values: Values, block_id: str) -> dict[str, Any]:
    actions = values.get(block_id) or {}
    return next(iter(actions.values()), {})


def text_of(values: Values, block_id: str) -> str:
    return str(_element(values, block_id).get("value") or "").strip()


def picked_of(values: Values, block_id: str) -> tuple[Picked, ...]:
    options = _element(values, block_id).get("selected_options") or []
    return tuple(Picked(str(o["value"]), str(o["text"]["text"])) for o in options)


def choice_of(values: Values, block_id: str) -> str | None:
    selected = _element(values, block_id).get("selected_option")
    return str(selected["value"]) if selected else None


def split_entries(text: str) -> tuple[str, ...]:
    return tuple(entry for entry in SEPARATORS.split(text) if entry)


def private_metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


@dataclass(frozen=True)
class BulkForm:
    action: Action
    channel_id: str
    targets: tuple[Picked, ...] = ()
    source_kind: SourceKind | None = None
    contacts: str = ""
    source_lists: tuple[Picked, ...] = ()
    source_tags: tuple[Picked, ...] = ()
    engagement: str | None = None
    segment: str = ""
    exclude: str = ""

    @classmethod
    def empty(cls, action: Action, channel_id: str) -> BulkForm:
        return cls(action, channel_id)

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> BulkForm:
        meta = private_metadata(view)
        values: Values = view.get("state", {}).get("values", {})
        direction = choice_of(values, BLOCK_DIRECTION)
        action = Action(direction or meta.get("action", Action.ADD_TAGS.value))
        kind = choice_of(values, BLOCK_SOURCE_KIND)
        return cls(
            action=action,
            channel_id=meta.get("channel", ""),
            targets=picked_of(values, BLOCK_TARGETS),
            source_kind=SourceKind(kind) if kind else None,
            contacts=text_of(values, BLOCK_CONTACTS),
            source_lists=picked_of(values, BLOCK_SOURCE_LISTS),
            source_tags=picked_of(values, BLOCK_SOURCE_TAGS),
            engagement=choice_of(values, BLOCK_ENGAGEMENT),
            segment=text_of(values, BLOCK_SEGMENT),
            exclude=text_of(values, BLOCK_EXCLUDE),
        )

    def source_values(self) -> tuple[str, ...]:
        match self.source_kind:
            case SourceKind.CONTACTS:
                return split_entries(self.contacts)
            case SourceKind.LISTS:
                return tuple(p.name for p in self.source_lists)
            case SourceKind.TAGS:
                return tuple(p.name for p in self.source_tags)
            case SourceKind.ENGAGEMENT:
                return (self.engagement,) if self.engagement else ()
            case SourceKind.SEGMENT:
                return (self.segment,) if self.segment else ()
        return ()

    def request(self) -> BulkRequest:
        kind = self.source_kind or SourceKind.CONTACTS
        return BulkRequest(
            action=self.action,
            targets=tuple(p.name for p in self.targets),
            source=Source(kind, self.source_values()),
            exclude_emails=split_entries(self.exclude),
        )

    def error_blocks(self, problems: dict[str, str]) -> dict[str, str]:
        """Problems keyed by the input block they are about (for response_action: errors)."""
        source_block = SOURCE_BLOCKS.get(self.source_kind or SourceKind.CONTACTS, BLOCK_SOURCE_KIND)
        blocks = {
            TARGETS: BLOCK_TARGETS,
            SOURCE: source_block,
            EXCLUDE: BLOCK_EXCLUDE,
            GENERAL: BLOCK_TARGETS,
        }
        errors: dict[str, str] = {}
        for field, message in problems.items():
            block = blocks.get(field, BLOCK_TARGETS)
            errors[block] = "\n".join(filter(None, [errors.get(block), message]))[:2000]
        return errors
