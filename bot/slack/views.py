"""Every modal and message of the front end, built with slack_sdk's Block Kit models."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    ExternalDataMultiSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.cc.models import Activity, EngagementLevel, Tag
from bot.slack.forms import (
    BLOCK_CONTACTS,
    BLOCK_DIRECTION,
    BLOCK_ENGAGEMENT,
    BLOCK_EXCLUDE,
    BLOCK_NAME,
    BLOCK_SEGMENT,
    BLOCK_SOURCE_KIND,
    BLOCK_SOURCE_LISTS,
    BLOCK_SOURCE_TAGS,
    BLOCK_TAG_SOURCE,
    BLOCK_TARGETS,
    BulkForm,
    Picked,
)
from bot.store import TrackedActivity
from bot.usecases import Action, Actor, Plan, SourceKind, StatusReport, sources_for

CALLBACK_BULK = "cctag_bulk"
CALLBACK_DELETE = "cctag_delete"
CALLBACK_CREATE = "cctag_create"
CALLBACK_CONFIRM = "cctag_confirm"
ACTION_TAGS = "tags"  # external selects load their options by these action ids
ACTION_LISTS = "lists"
ACTION_CONFIRM = "cctag_confirm_start"
ACTION_CANCEL = "cctag_cancel_start"
MAX_SECTION_TEXT = 3000
MAX_OPTION_TEXT = 75

SOURCE_LABELS = {
    SourceKind.CONTACTS: "Contacts by email or id",
    SourceKind.LISTS: "Contacts on lists",
    SourceKind.TAGS: "Contacts with tags",
    SourceKind.ALL_ACTIVE: "All active contacts",
    SourceKind.NEW_SUBSCRIBERS: "New subscribers",
    SourceKind.ENGAGEMENT: "Contacts of an engagement level",
    SourceKind.SEGMENT: "A segment",
}
TITLES = {
    Action.ADD_TAGS: "Add tags",
    Action.REMOVE_TAGS: "Remove tags",
    Action.ADD_TO_LISTS: "Contacts and lists",
    Action.REMOVE_FROM_LISTS: "Contacts and lists",
    Action.DELETE_TAGS: "Delete tags",
}

HELP = """*cctag* manages Constant Contact tags and bulk contact activities.
• `/cctag add` / `/cctag remove` — add tags to contacts, or remove them (opens a form)
• `/cctag add <tag>[, <tag>…] <source> [--exclude <email>[, …]]` — the same in one line
• `/cctag delete [<tag>[, <tag>…]]` — delete tags (shows how many contacts carry each; confirm)
• `/cctag lists [<list>[, …] <source>]` — add contacts to lists; `/cctag unlists …` removes them
• `/cctag create <tag name> [--source <label>]` — create a tag
• `/cctag tags` — every tag with its number of contacts
• `/cctag status <activity_id>` — where an activity stands
`<source>` is one of `--contacts <email or id>[, …]`, `--lists <list>[, …]`, `--tags <tag>[, …]`, \
`--all-active`, `--new-subscribers`; `lists`/`unlists` also take `--engagement \
<unqualified|low|medium|high>` and (`lists` only) `--segment <segment id>`. Separate names with \
commas; quote a name holding a comma. `--exclude` works with `--all-active` and `--lists`. \
Broad and destructive requests ask to confirm first."""


def _text(text: str) -> PlainTextObject:
    return PlainTextObject(text=text[:MAX_OPTION_TEXT], emoji=False)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:MAX_SECTION_TEXT]))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text[:MAX_SECTION_TEXT])])


def dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _option(picked: Picked) -> Option:
    return Option(value=picked.value, text=_text(picked.name))


def name_options(items: Sequence[Tag] | Sequence[Any]) -> list[dict[str, Any]]:
    """Options for an external select: the value is the name (unique per account)."""
    return [Option(value=item.name[:150], text=_text(item.name)).to_dict() for item in items]


def _picker(action_id: str, placeholder: str, initial: Sequence[Picked]) -> Any:
    return ExternalDataMultiSelectElement(
        action_id=action_id,
        placeholder=_text(placeholder),
        min_query_length=0,
        initial_options=[_option(p) for p in initial] or None,
    )


def _text_input(action_id: str, initial: str, multiline: bool, placeholder: str) -> Any:
    return PlainTextInputElement(
        action_id=action_id,
        initial_value=initial or None,
        multiline=multiline,
        placeholder=_text(placeholder),
    )


def _problems_banner(problems: dict[str, str] | None) -> list[Block]:
    if not problems:
        return []
    listed = "\n".join(f"• {message}" for message in problems.values())
    return [_section(f":warning: *Nothing was started:*\n{listed}"), DividerBlock()]


def metadata(**values: str) -> str:
    return json.dumps(values)


# ---------------------------------------------------------------------- modals


def bulk_modal(
    action: Action,
    channel_id: str,
    form: BulkForm | None = None,
    problems: dict[str, str] | None = None,
) -> View:
    form = form or BulkForm.empty(action, channel_id)
    lists = action.targets_lists
    blocks: list[Block] = [*_problems_banner(problems)]
    if lists:
        blocks.append(_direction_block(form.action))
    blocks += [
        InputBlock(
            block_id=BLOCK_TARGETS,
            label=_text("Lists" if lists else "Tags"),
            element=_picker(ACTION_LISTS if lists else ACTION_TAGS, "Type a name", form.targets),
        ),
        _source_kind_block(action, form.source_kind),
        *_source_value_blocks(action, form),
        InputBlock(
            block_id=BLOCK_EXCLUDE,
            optional=True,
            label=_text("Except these contacts"),
            hint=_text("Emails; only with all active contacts or lists as the source"),
            element=_text_input("value", form.exclude, True, "a@example.com, b@example.com"),
        ),
    ]
    return View(
        type="modal",
        callback_id=CALLBACK_BULK,
        title=_text(TITLES[action]),
        submit=_text("Next"),
        close=_text("Cancel"),
        private_metadata=metadata(action=form.action.value, channel=channel_id),
        blocks=blocks,
    )


def _direction_block(action: Action) -> InputBlock:
    options = [
        Option(value=Action.ADD_TO_LISTS.value, text=_text("Add contacts to the lists")),
        Option(value=Action.REMOVE_FROM_LISTS.value, text=_text("Remove contacts from the lists")),
    ]
    initial = options[0] if action is Action.ADD_TO_LISTS else options[1]
    return InputBlock(
        block_id=BLOCK_DIRECTION,
        label=_text("What to do"),
        element=RadioButtonsElement(action_id="value", options=options, initial_option=initial),
    )


def _source_kind_block(action: Action, chosen: SourceKind | None) -> InputBlock:
    options = [Option(value=k.value, text=_text(SOURCE_LABELS[k])) for k in sources_for(action)]
    initial = next((o for o in options if o.value == (chosen.value if chosen else "")), None)
    return InputBlock(
        block_id=BLOCK_SOURCE_KIND,
        label=_text("Which contacts"),
        element=RadioButtonsElement(action_id="value", options=options, initial_option=initial),
    )


def _source_value_blocks(action: Action, form: BulkForm) -> list[Block]:
    kinds = sources_for(action)
    blocks: list[Block] = [
        InputBlock(
            block_id=BLOCK_CONTACTS,
            optional=True,
            label=_text("Contacts (for “by email or id”)"),
            element=_text_input("value", form.contacts, True, "Emails or contact ids"),
        ),
        InputBlock(
            block_id=BLOCK_SOURCE_LISTS,
            optional=True,
            label=_text("Lists (for “on lists”)"),
            element=_picker(ACTION_LISTS, "Type a list name", form.source_lists),
        ),
        InputBlock(
            block_id=BLOCK_SOURCE_TAGS,
            optional=True,
            label=_text("Tags (for “with tags”)"),
            element=_picker(ACTION_TAGS, "Type a tag name", form.source_tags),
        ),
    ]
    if SourceKind.ENGAGEMENT in kinds:
        levels = [Option(value=level.value, text=_text(level.value)) for level in EngagementLevel]
        initial = next((o for o in levels if o.value == form.engagement), None)
        blocks.append(
            InputBlock(
                block_id=BLOCK_ENGAGEMENT,
                optional=True,
                label=_text("Engagement level (for “engagement”)"),
                element=StaticSelectElement(
                    action_id="value", options=levels, initial_option=initial
                ),
            )
        )
    if SourceKind.SEGMENT in kinds:
        blocks.append(
            InputBlock(
                block_id=BLOCK_SEGMENT,
                optional=True,
                label=_text("Segment id (for “a segment”)"),
                element=_text_input("value", form.segment, False, "e.g. 12"),
            )
        )
    return blocks


def delete_modal(
    channel_id: str, picked: Sequence[Picked] = (), problems: dict[str, str] | None = None
) -> View:
    return View(
        type="modal",
        callback_id=CALLBACK_DELETE,
        title=_text("Delete tags"),
        submit=_text("Next"),
        close=_text("Cancel"),
        private_metadata=metadata(action=Action.DELETE_TAGS.value, channel=channel_id),
        blocks=[
            *_problems_banner(problems),
            InputBlock(
                block_id=BLOCK_TARGETS,
                label=_text("Tags to delete"),
                hint=_text("The next step shows how many contacts carry each"),
                element=_picker(ACTION_TAGS, "Type a tag name", picked),
            ),
        ],
    )


def create_modal(
    channel_id: str, name: str = "", label: str = "", problems: dict[str, str] | None = None
) -> View:
    return View(
        type="modal",
        callback_id=CALLBACK_CREATE,
        title=_text("Create a tag"),
        submit=_text("Create"),
        close=_text("Cancel"),
        private_metadata=metadata(channel=channel_id),
        blocks=[
            *_problems_banner(problems),
            InputBlock(
                block_id=BLOCK_NAME,
                label=_text("Tag name"),
                element=_text_input("value", name, False, "1 to 255 characters, no < or >"),
            ),
            InputBlock(
                block_id=BLOCK_TAG_SOURCE,
                optional=True,
                label=_text("Source label"),
                hint=_text("Where the tag's contacts come from, e.g. “Spring fair”"),
                element=_text_input("value", label, False, "optional"),
            ),
        ],
    )


def working_modal(title: str, text: str) -> View:
    return View(
        type="modal",
        title=_text(title),
        close=_text("Close"),
        blocks=[_section(f":hourglass_flowing_sand: {text}")],
    )


def result_modal(title: str, text: str) -> View:
    return View(type="modal", title=_text(title), close=_text("Done"), blocks=[_section(text)])


def preview_lines(plan: Plan) -> str:
    lines = [f"*{plan.summary}*", f"This touches {plan.reach}."]
    lines += [f"• {detail}" for detail in plan.details]
    return "\n".join(lines)


def confirm_modal(plan: Plan, plan_id: str) -> View:
    destructive = plan.action is Action.DELETE_TAGS
    return View(
        type="modal",
        callback_id=CALLBACK_CONFIRM,
        title=_text(TITLES[plan.action]),
        submit=_text("Delete" if destructive else "Confirm"),
        close=_text("Cancel"),
        notify_on_close=True,
        private_metadata=metadata(plan=plan_id),
        blocks=[_section(preview_lines(plan)), _context("Nothing starts until you confirm.")],
    )


# ---------------------------------------------------------------------- messages


def help_blocks(prefix: str = "") -> list[dict[str, Any]]:
    return dicts([_section(prefix + HELP)])


def confirm_message(plan: Plan, plan_id: str) -> list[dict[str, Any]]:
    destructive = plan.action is Action.DELETE_TAGS
    return dicts(
        [
            _section(preview_lines(plan)),
            ActionsBlock(
                block_id="confirm",
                elements=[
                    ButtonElement(
                        action_id=ACTION_CONFIRM,
                        text=_text("Delete" if destructive else "Confirm"),
                        value=plan_id,
                        style="danger" if destructive else "primary",
                    ),
                    ButtonElement(action_id=ACTION_CANCEL, text=_text("Cancel"), value=plan_id),
                ],
            ),
        ]
    )


def parent_text(actor: Actor, plan: Plan, state: str) -> str:
    return f"<@{actor.user_id}> asked: {plan.summary} ({plan.reach}). State: {state}"


def parent_blocks(actor: Actor, plan: Plan, state_line: str) -> list[dict[str, Any]]:
    return dicts(
        [
            _section(f"<@{actor.user_id}> asked: *{plan.summary}* ({plan.reach})"),
            _context(state_line),
        ]
    )


def started_line(activity: Activity) -> str:
    return f"State: *{activity.state}* · activity `{activity.activity_id}` · progress in the thread"


def tags_blocks(tags: Sequence[Tag]) -> list[dict[str, Any]]:
    if not tags:
        return dicts([_section("The account has no tags yet. `/cctag create <name>` makes one.")])
    lines = [f"• {tag.name} — {_contacts(tag.contacts_count or 0)}" for tag in tags]
    sections: list[Block] = [HeaderBlock(text=_text(f"{len(tags)} tags"))]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > MAX_SECTION_TEXT - 10:
            sections.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    sections.append(_section("\n".join(chunk)))
    return dicts(sections[:50])


def tags_text(tags: Sequence[Tag]) -> str:
    return "\n".join(f"{tag.name}: {_contacts(tag.contacts_count or 0)}" for tag in tags)


def _contacts(count: int) -> str:
    return f"{count} contact" + ("" if count == 1 else "s")


def status_text(report: StatusReport) -> str:
    activity = report.activity
    status = activity.status
    parts = [f"Activity `{activity.activity_id}`: *{activity.state}*"]
    if activity.percent_done is not None:
        parts.append(f"{activity.percent_done}% done")
    if status and status.items_total_count is not None:
        parts.append(f"{status.items_completed_count or 0} of {status.items_total_count} items")
    text = ", ".join(parts)
    if report.tracked is not None:
        text += f"\n{report.tracked.summary} (asked by <@{report.tracked.requester_id}>)"
    if activity.activity_errors:
        text += "\n" + "\n".join(f"• {error}" for error in activity.activity_errors[:10])
    return text


def home_view(recent: Sequence[TrackedActivity]) -> View:
    blocks: list[Block] = [HeaderBlock(text=_text("cctag")), _section(HELP), DividerBlock()]
    if recent:
        lines = [f"• `{t.activity_id}` *{t.state}* — {t.summary}" for t in recent]
        blocks.append(_section("*Recent activities*\n" + "\n".join(lines)))
    else:
        blocks.append(_context("No activities started from Slack yet."))
    return View(type="home", blocks=blocks)
