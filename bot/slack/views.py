"""Block Kit for Slack (slack_sdk models): the modals, and blocks around the use cases' words."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View

from bot.cc.models import EngagementLevel
from bot.mrkdwn import fit, safe
from bot.usecases import SourceKind
from bot.usecases.bodies import LIST_ADD_SOURCES, LIST_REMOVE_SOURCES, TAGGING_SOURCES
from bot.usecases.commands import HELP_TEXT

TAG_SELECT = "tag_select"
LIST_SELECT = "list_select"
CAMPAIGN_SELECT = "campaign_select"
LINK_SELECT = "link_select"
CONFIRM_COMMAND = "confirm_command"
CANCEL_COMMAND = "cancel_command"
TAGGING_FORM = "tagging_form"
LISTS_FORM = "lists_form"
DELETE_FORM = "delete_form"
CONFIRM_VIEW = "confirm_view"
CREATE_FORM = "create_form"
CONNECT_LINK = "connect_link"
FILE_BLOCK = "source_file"
# A form's private_metadata key for the emails kept server-side (a shortcut's many emails).
KEPT = "kept"
FILE_TYPES = ["csv", "txt"]
HOME_ACTIONS = ("home_create", "home_add", "home_remove", "home_delete", "home_lists")
HOME_CONNECT = "home_connect"
MAX_OPTION_TEXT = 75
MAX_SECTION_TEXT = 3000
# Sections of whole lines a message or a view shows before counting the rest: well inside
# Slack's 50 blocks in a message and 100 in a view, with room for buttons and notes.
MESSAGE_SECTIONS = 20
VIEW_SECTIONS = 40

SOURCE_LABELS = {
    SourceKind.LISTS: "Contacts on lists",
    SourceKind.TAGS: "Contacts with tags",
    SourceKind.CONTACTS: "These contacts",
    SourceKind.ALL_ACTIVE: "All active contacts",
    SourceKind.NEW_SUBSCRIBERS: "New subscribers",
    SourceKind.ENGAGEMENT: "Contacts by engagement",
    SourceKind.SEGMENT: "A segment",
    SourceKind.CLICKED: "Who clicked in a campaign",
    SourceKind.OPENED: "Who opened a campaign",
    SourceKind.NOT_OPENED: "Who did not open a campaign",
    SourceKind.BOUNCED: "Whose email bounced in a campaign",
}


@dataclass(frozen=True)
class KeptEmails:
    """Emails kept server-side behind `key` (too many for the contacts field to start with)."""

    key: str
    count: int


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[dict[str, Any]]


def _dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=_mrkdwn(text)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_mrkdwn(text))])


def _sections(text: str, most: int) -> list[Block]:
    """`text` as sections of whole lines, escaped, each within 3,000 characters; past `most`
    sections the lines left are counted ("and N more lines") rather than cut mid-way, so
    what comes first (the request, its id, its warning) is always shown."""
    groups: list[list[str]] = []
    size = 0
    for line in (fit(safe(line), limit=MAX_SECTION_TEXT) for line in text.split("\n")):
        if groups and size + 1 + len(line) <= MAX_SECTION_TEXT:
            groups[-1].append(line)
            size += 1 + len(line)
        else:
            groups.append([line])
            size = len(line)
    if len(groups) > most:
        left = sum(len(group) for group in groups[most - 1 :])
        groups = [*groups[: most - 1], [f"_…and {left:,} more lines_"]]
    return [SectionBlock(text=MarkdownTextObject(text="\n".join(group))) for group in groups]


def _mrkdwn(text: str) -> str:
    """Names and Constant Contact's words escaped (nothing pings or links), within 3,000."""
    return fit(safe(text), limit=MAX_SECTION_TEXT)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reply(text: str, context: str | None = None) -> Reply:
    blocks: list[Block] = _sections(text, MESSAGE_SECTIONS)
    if context:
        blocks.append(_context(context))
    return Reply(text=_mrkdwn(text), blocks=_dicts(blocks))


# ---------------------------------------------------------------- ephemeral replies


def refusal(message: str) -> Reply:
    return reply(f":warning: {message}", context="Nothing was changed.")


def confirm_reply(preview: str, value: str) -> Reply:
    buttons = ActionsBlock(
        block_id="confirm",
        elements=[
            ButtonElement(text="Confirm", action_id=CONFIRM_COMMAND, value=value, style="primary"),
            ButtonElement(text="Cancel", action_id=CANCEL_COMMAND, value=value),
        ],
    )
    note = _context("Nothing starts until you confirm.")
    blocks = [*_sections(preview, MESSAGE_SECTIONS), buttons, note]
    return Reply(text=_mrkdwn(preview + "\nConfirm to start it."), blocks=_dicts(blocks))


# ---------------------------------------------------------------- modals


def _modal(
    callback_id: str,
    title: str,
    blocks: Sequence[Block],
    *,
    submit: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=_clip(title, 24)),
        submit=PlainTextObject(text=submit) if submit else None,
        close=PlainTextObject(text="Close" if submit is None else "Cancel"),
        blocks=list(blocks),
        private_metadata=json.dumps(metadata or {}, separators=(",", ":")),
    )
    return view.to_dict()


def _multi(action_id: str, placeholder: str) -> ExternalDataMultiSelectElement:
    return ExternalDataMultiSelectElement(
        action_id=action_id, placeholder=placeholder, min_query_length=0
    )


def _text_input(
    multiline: bool = False, placeholder: str | None = None, initial: str | None = None
) -> PlainTextInputElement:
    return PlainTextInputElement(
        action_id="value", multiline=multiline, placeholder=placeholder, initial_value=initial
    )


def _file_block() -> InputBlock:
    return InputBlock(
        block_id=FILE_BLOCK,
        label="Or a CSV file of emails (any column, with or without a header)",
        element=FileInputElement(action_id="value", filetypes=FILE_TYPES, max_files=1),
        optional=True,
    )


def _source_blocks(
    kinds: Sequence[SourceKind], contacts: str = "", kept: KeptEmails | None = None
) -> list[Block]:
    """`contacts`: emails to start the typed contacts with; `kept`: emails included besides
    them (either picks that source)."""
    ordered = [kind for kind in SOURCE_LABELS if kind in kinds]  # lists first: the usual case
    options = [Option(value=kind.value, text=SOURCE_LABELS[kind]) for kind in ordered]
    initial = options[ordered.index(SourceKind.CONTACTS)] if contacts or kept else options[0]
    blocks: list[Block] = [
        InputBlock(
            block_id="source_kind",
            label="Which contacts",
            element=RadioButtonsElement(action_id="value", options=options, initial_option=initial),
        ),
        InputBlock(
            block_id="source_lists",
            label="Lists (when the contacts are on lists)",
            element=_multi(LIST_SELECT, "Type to find lists"),
            optional=True,
        ),
        InputBlock(
            block_id="source_tags",
            label="Tags (when the contacts have tags)",
            element=_multi(TAG_SELECT, "Type to find tags"),
            optional=True,
        ),
        *([_context(_included(kept))] if kept else []),
        InputBlock(
            block_id="source_contacts",
            label="Contacts (emails or ids, separated by commas)",
            element=_text_input(True, "ann@example.com, bob@example.com", contacts or None),
            optional=True,
        ),
    ]
    if SourceKind.CONTACTS in kinds:
        blocks.append(_file_block())
    if SourceKind.ENGAGEMENT in kinds:
        levels = [Option(value=level.value, text=level.value) for level in EngagementLevel]
        blocks.append(
            InputBlock(
                block_id="source_engagement",
                label="Engagement level",
                element=StaticSelectElement(action_id="value", options=levels),
                optional=True,
            )
        )
    if SourceKind.SEGMENT in kinds:
        blocks.append(
            InputBlock(
                block_id="source_segment",
                label="Segment id or name",
                element=_text_input(placeholder="42"),
                optional=True,
            )
        )
    if any(kind.is_campaign for kind in kinds):
        blocks += _campaign_blocks()
    blocks.append(
        InputBlock(
            block_id="exclude",
            label="Except these contacts (emails, only with lists or all active contacts)",
            element=_text_input(True),
            optional=True,
        )
    )
    return blocks


def _included(kept: KeptEmails) -> str:
    return f"{kept.count:,} emails from the message are included (you may add more below)"


def _campaign_blocks() -> list[Block]:
    """Campaign and link pickers (type-ahead over recent campaigns, then the chosen one's links)."""
    return [
        InputBlock(
            block_id="source_campaign",
            label="Campaign (for who clicked, opened, did not open or bounced)",
            element=ExternalDataSelectElement(
                action_id=CAMPAIGN_SELECT, placeholder="Type to find a campaign", min_query_length=0
            ),
            optional=True,
        ),
        InputBlock(
            block_id="source_link",
            label="Link (only for who clicked; leave it empty for any link)",
            element=ExternalDataSelectElement(
                action_id=LINK_SELECT, placeholder="Pick the campaign first", min_query_length=0
            ),
            optional=True,
        ),
    ]


def tagging_form(
    action: str, channel_id: str, contacts: str = "", kept: KeptEmails | None = None
) -> dict[str, Any]:
    """`contacts`: emails the contacts field starts with (a message shortcut's); `kept`: a
    message's emails too many for that field, kept server-side and named in the metadata."""
    verb = "Add tags" if action == "add" else "Remove tags"
    targets = InputBlock(
        block_id="targets",
        label="Tags to add" if action == "add" else "Tags to remove",
        element=_multi(TAG_SELECT, "Type to find tags"),
    )
    return _modal(
        TAGGING_FORM,
        verb,
        [targets, *_source_blocks(TAGGING_SOURCES, contacts, kept)],
        submit=verb,
        metadata={"channel": channel_id, "action": action, **({KEPT: kept.key} if kept else {})},
    )


def lists_form(action: str, channel_id: str) -> dict[str, Any]:
    verb = "Add to lists" if action == "add" else "Remove from lists"
    kinds = LIST_ADD_SOURCES if action == "add" else LIST_REMOVE_SOURCES
    note = (
        "New subscribers cannot be added to lists: Constant Contact has no such source here."
        if action == "add"
        else "A segment cannot be the source for removing: Constant Contact has no such source."
    )
    targets = InputBlock(
        block_id="targets",
        label="Lists",
        element=_multi(LIST_SELECT, "Type to find lists"),
    )
    return _modal(
        LISTS_FORM,
        verb,
        [targets, *_source_blocks(kinds), _context(note)],
        submit="Add" if action == "add" else "Remove",
        metadata={"channel": channel_id, "action": action},
    )


def delete_form(channel_id: str) -> dict[str, Any]:
    targets = InputBlock(
        block_id="targets",
        label="Tags to delete",
        element=_multi(TAG_SELECT, "Type to find tags"),
    )
    note = _context("You will see how many contacts carry each tag before anything is deleted.")
    return _modal(
        DELETE_FORM, "Delete tags", [targets, note], submit="Next", metadata={"channel": channel_id}
    )


def working_view(title: str, text: str = "Working on it…") -> dict[str, Any]:
    return _modal("working", title, [_section(f":hourglass_flowing_sand: {text}")])


def result_view(title: str, text: str, context: str | None = None) -> dict[str, Any]:
    blocks: list[Block] = _sections(text, VIEW_SECTIONS)
    if context:
        blocks.append(_context(context))
    return _modal("result", title, blocks)


def confirm_view(title: str, preview: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return _modal(
        CONFIRM_VIEW,
        title,
        [*_sections(preview, VIEW_SECTIONS), _context("Nothing starts until you confirm.")],
        submit="Confirm",
        metadata=metadata,
    )


def option(value: str, text: str) -> dict[str, Any]:
    return Option(value=value, text=_clip(text, MAX_OPTION_TEXT)).to_dict()


def _connect_blocks(link: str) -> list[Block]:
    button = ButtonElement(
        text="Connect Constant Contact", url=link, action_id=CONNECT_LINK, style="primary"
    )
    return [
        _section("Connect a Constant Contact account to this workspace."),
        ActionsBlock(block_id="connect", elements=[button]),
        _context("The link works once, for ten minutes; it is yours only, do not share it."),
    ]


def connect_reply(link: str) -> Reply:
    text = f"Connect a Constant Contact account: <{link}|open the authorization page>."
    return Reply(text=text, blocks=_dicts(_connect_blocks(link)))


def connect_view(link: str) -> dict[str, Any]:
    return _modal("connect", "Connect", _connect_blocks(link))


def create_form() -> dict[str, Any]:
    name = InputBlock(
        block_id="name", label="Tag name", element=_text_input(placeholder="VIP 2026")
    )
    source = InputBlock(
        block_id="source",
        label="Source label",
        optional=True,
        hint="Where these contacts come from, e.g. a campaign or an event",
        element=_text_input(placeholder="Spring fair 2026"),
    )
    return _modal(CREATE_FORM, "Create a tag", [name, source], submit="Create")


def home_view() -> dict[str, Any]:
    return View(type="home", blocks=[_section(HELP_TEXT)]).to_dict()
