"""Reading a submitted modal into plain inputs, and the inline errors it deserves."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.slack.views import DELETE_FORM, FILE_BLOCK, KEPT, LISTS_FORM
from bot.usecases import BulkInput, DeleteInput, ListsInput, Source, SourceKind, TaggingInput
from bot.usecases.inputs import Action

MAX_METADATA = 3000
# A confirmation modal's private_metadata holds only this key: the form is saved server-side.
SAVED_FORM = "saved"
SPLIT_CONTACTS = re.compile(r"[,;\s]+")
SOURCE_BLOCKS = {
    SourceKind.LISTS: "source_lists",
    SourceKind.TAGS: "source_tags",
    SourceKind.CONTACTS: "source_contacts",
    SourceKind.ENGAGEMENT: "source_engagement",
    SourceKind.SEGMENT: "source_segment",
    SourceKind.CLICKED: "source_campaign",
    SourceKind.OPENED: "source_campaign",
    SourceKind.NOT_OPENED: "source_campaign",
    SourceKind.BOUNCED: "source_campaign",
}
# Sources whose values are ids picked from a type-ahead menu (turned into names later).
PICKED = {SourceKind.LISTS, SourceKind.TAGS}


@dataclass(frozen=True)
class Form:
    """A submitted form: `targets` and picked source values are ids (the use cases name them)."""

    form: str  # "tagging", "lists" or "delete"
    action: Action
    channel_id: str
    targets: tuple[str, ...]
    source: Source
    exclude: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # Slack file ids attached; their emails join the contacts
    kept: str = ""  # the key of emails kept server-side (a shortcut's); they join too

    def as_input(self) -> BulkInput:
        if self.form == "delete":
            return DeleteInput(self.targets)
        if self.form == "lists":
            return ListsInput(self.action, self.targets, self.source, self.exclude)
        return TaggingInput(self.action, self.targets, self.source, self.exclude)

    @classmethod
    def of(cls, inp: BulkInput, channel_id: str) -> Form:
        if isinstance(inp, DeleteInput):
            return cls("delete", "add", channel_id, inp.tag_names, Source(SourceKind.ALL_ACTIVE))
        if isinstance(inp, ListsInput):
            return cls("lists", inp.action, channel_id, inp.list_names, inp.source, inp.exclude)
        return cls("tagging", inp.action, channel_id, inp.tag_names, inp.source, inp.exclude)

    def to_metadata(self) -> str:
        data = {
            "channel": self.channel_id,
            "form": self.form,
            "action": self.action,
            "targets": self.targets,
            "source": [self.source.kind.value, *self.source.values],
            "exclude": self.exclude,
        }
        if self.files:
            data["files"] = self.files
        if self.kept:
            data[KEPT] = self.kept
        return json.dumps(data, separators=(",", ":"))


def from_metadata(raw: str) -> Form:
    data = json.loads(raw)
    kind, *values = data["source"]
    return Form(
        data["form"],
        data["action"],
        data["channel"],
        tuple(data["targets"]),
        Source(SourceKind(kind), tuple(values)),
        tuple(data["exclude"]),
        tuple(data.get("files") or ()),
        str(data.get(KEPT) or ""),
    )


def form_kind(callback_id: str) -> str:
    return {LISTS_FORM: "lists", DELETE_FORM: "delete"}.get(callback_id, "tagging")


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _state(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    actions = view.get("state", {}).get("values", {}).get(block_id, {})
    return next(iter(actions.values()), {}) if actions else {}


def _picked(view: dict[str, Any], block_id: str) -> tuple[str, ...]:
    chosen = _state(view, block_id).get("selected_options") or []
    return tuple(str(option["value"]) for option in chosen)


def _selected(view: dict[str, Any], block_id: str) -> str | None:
    chosen = _state(view, block_id).get("selected_option")
    return str(chosen["value"]) if chosen else None


def _typed(view: dict[str, Any], block_id: str) -> tuple[str, ...]:
    text = _state(view, block_id).get("value") or ""
    return tuple(part for part in SPLIT_CONTACTS.split(text) if part)


def read_form(view: dict[str, Any]) -> tuple[Form, dict[str, str]]:
    """The form's content, and inline errors (by block id) for what is missing."""
    kind = form_kind(str(view.get("callback_id", "")))
    meta = metadata(view)
    action: Action = "remove" if meta.get("action") == "remove" else "add"
    errors: dict[str, str] = {}
    targets = _picked(view, "targets")
    if not targets:
        errors["targets"] = "Pick at least one"
    source = Source(SourceKind.ALL_ACTIVE)
    if kind != "delete":
        source = _read_source(view, errors)
    channel = str(meta.get("channel", ""))
    files = _attached(view, source, errors)
    kept = _kept(meta, source, errors)
    exclude = _typed(view, "exclude")
    return Form(kind, action, channel, targets, source, exclude, files, kept), errors


def _kept(meta: dict[str, Any], source: Source, errors: dict[str, str]) -> str:
    """The key of the emails kept for this form; they are enough for “These contacts”."""
    kept = str(meta.get(KEPT) or "")
    if kept and source.kind != SourceKind.CONTACTS:
        errors["source_kind"] = (
            "The emails from the message are contacts: keep “These contacts” picked"
        )
    elif kept:
        errors.pop(SOURCE_BLOCKS[SourceKind.CONTACTS], None)
    return kept


def _attached(view: dict[str, Any], source: Source, errors: dict[str, str]) -> tuple[str, ...]:
    """The ids of the files attached; a file alone is enough for “These contacts”."""
    files = _state(view, FILE_BLOCK).get("files") or []
    ids = tuple(str(f["id"]) for f in files if isinstance(f, dict) and f.get("id"))
    if ids and source.kind != SourceKind.CONTACTS:
        errors[FILE_BLOCK] = "A file names contacts: pick “These contacts” above, or remove it"
    elif ids:
        errors.pop(SOURCE_BLOCKS[SourceKind.CONTACTS], None)
    return ids


def _read_source(view: dict[str, Any], errors: dict[str, str]) -> Source:
    kind = SourceKind(_selected(view, "source_kind") or SourceKind.LISTS.value)
    block = SOURCE_BLOCKS.get(kind)
    if block is None:
        return Source(kind)
    if kind in PICKED:
        values = _picked(view, block)
    elif kind.is_campaign:
        values = _campaign_values(view, kind, errors)
    elif kind == SourceKind.SEGMENT:  # one name, spaces and all
        whole = str(_state(view, block).get("value") or "").strip()
        values = (whole,) if whole else ()
    elif kind == SourceKind.ENGAGEMENT:
        level = _selected(view, block)
        values = (level,) if level else ()
    else:
        values = _typed(view, block)
    if not values:
        errors[block] = f"Fill this in for “{kind.value}”, or pick another source above"
    return Source(kind, values)


def _campaign_values(
    view: dict[str, Any], kind: SourceKind, errors: dict[str, str]
) -> tuple[str, ...]:
    """The picked campaign (and link, for clicked), as option values: the use cases map a
    shortened value back (Operations.named)."""
    campaign = _selected(view, "source_campaign")
    link = _selected(view, "source_link")
    if campaign is None:
        return ()
    if link is None or kind != SourceKind.CLICKED:
        if link is not None:
            errors["source_link"] = "A link only narrows who clicked; clear it for this source"
        return (campaign,)
    return (campaign, link)


def block_errors(form: Form, fields: dict[str, str]) -> dict[str, str]:
    """Map use-case problem fields ("targets", "source", "exclude") onto the form's blocks."""
    errors: dict[str, str] = {}
    for field_name, message in fields.items():
        block = field_name
        if field_name == "source":
            block = SOURCE_BLOCKS.get(form.source.kind, "source_kind")
        errors[block] = message[:2000]
    return errors
