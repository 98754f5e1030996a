"""create, rename, tags and status: single calls, answered at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.cc.models import Tag
from bot.store.jobs import STARTING, UNKNOWN, WAITING, JobPart
from bot.usecases.commands.command import Command
from bot.usecases.grammar import parse_create, parse_rename, parse_tags_flags
from bot.usecases.outcomes import Refused, plural
from bot.usecases.ports import Message
from bot.usecases.resolver import similar_groups
from bot.usecases.service import JobReport, StatusReport

if TYPE_CHECKING:
    from bot.usecases.requests import Turn


def created(tag: Tag) -> Message:
    source = f", source “{tag.tag_source}”" if tag.tag_source else ""
    return Message(f"Created the tag *{tag.name}*{source}.", note=f"Tag id `{tag.tag_id}`")


def create(turn: Turn, name: str, source: str | None) -> None:
    """A tag created, and said (the line and the form both come here)."""
    turn.say(created(turn.ops.create_tag(turn.actor, turn.account(), name, source)))


def _create(turn: Turn, rest: str) -> None:
    name, source = parse_create(rest)
    if not name:
        raise Refused("Name the tag: `/cctag create <tag name> [--source <label>]`")
    create(turn, name, source)


def _rename(turn: Turn, rest: str) -> None:
    old, new = parse_rename(rest)
    tag = turn.ops.rename_tag(turn.actor, turn.account(), old, new)
    turn.say(Message(f"Renamed the tag “{old.strip()}” to *{tag.name}*.", f"Tag id `{tag.tag_id}`"))


def tag_list(tags: Sequence[Tag]) -> Message:
    if not tags:
        return Message("The account has no tags yet. Create one with `/cctag create <name>`.")
    lines = [f"• *{tag.name}*: {plural(tag.contacts_count or 0, 'contact')}" for tag in tags]
    return Message(f"*{plural(len(tags), 'tag')}*\n" + "\n".join(lines))


def similar_list(groups: Sequence[Sequence[Tag]]) -> Message:
    if not groups:
        return Message("No two tags differ only in case, spaces or punctuation.")
    lines = [
        "• " + ", ".join(f"*{tag.name}* ({tag.contacts_count or 0:,})" for tag in group)
        for group in groups
    ]
    head = f"*{plural(len(groups), 'group')} of similar tag names* (contacts in brackets)"
    hint = "Merge a group with `/cctag merge <tag>, <tag> --into <tag>`."
    return Message("\n".join([head, *lines, hint]))


def _tags(turn: Turn, rest: str) -> None:
    similar = parse_tags_flags(rest)
    tags = turn.ops.tag_counts(turn.actor, turn.account())
    turn.say(similar_list(similar_groups(tags)) if similar else tag_list(tags))


def job_status_message(report: JobReport) -> Message:
    """A job as a whole: its progress in words, then each part's activity and state."""
    job = report.job
    lines = [report.progress.text]
    for part in job.parts:
        lines.append(f"• part {part.position + 1}: {_part_line(part)}")
    return Message("\n".join(lines), f"{job.summary}, asked by <@{job.requester_id}>")


def _part_line(part: JobPart) -> str:
    """Never "not started" for a part that was sent: unknown, with what to check."""
    if part.activity_id:
        return f"`{part.activity_id}` *{part.state}*"
    if part.state in (STARTING, UNKNOWN):
        return (
            "*unknown*: sent without an answer from Constant Contact; check its recent "
            "activities before running it again"
            + (" (cctag is still checking)" if part.state == STARTING else "")
        )
    if part.state == WAITING:
        return f"*waiting* for part {(part.after or 0) + 1} to complete"
    return "not started"


def status_message(report: StatusReport | JobReport) -> Message:
    if isinstance(report, JobReport):
        return job_status_message(report)
    activity = report.activity
    text = f"Activity `{activity.activity_id}` is *{activity.state}*"
    if activity.percent_done is not None:
        text += f" ({activity.percent_done}% done)"
    if activity.activity_errors:
        text += "\n" + "\n".join(f"• {error}" for error in activity.activity_errors[:10])
    tracked = report.tracked
    note = f"{tracked.summary}, asked by <@{tracked.requester_id}>" if tracked else None
    return Message(text, note)


def _status(turn: Turn, rest: str) -> None:
    turn.say(status_message(turn.ops.status(turn.actor, turn.account(), rest)))


COMMANDS = (
    Command(
        "create",
        ("`/cctag create <tag> [--source <label>]`: create a tag",),
        _create,
        permission="create",
    ),
    Command(
        "rename",
        ("`/cctag rename <tag> --to <new name>`: rename a tag",),
        _rename,
        permission="rename",
    ),
    Command(
        "tags",
        (
            "`/cctag tags`: the tags with their contact counts; `/cctag tags --similar`: the "
            "groups of names that differ only in case, spaces or punctuation",
        ),
        _tags,
        "tags",
    ),
    Command(
        "status",
        ("`/cctag status <activity or job id>`: how an activity or a job is doing",),
        _status,
        permission="status",
    ),
)
