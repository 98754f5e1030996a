"""merge: the contacts of several tags given one tag, then those tags deleted.

A plan of ordered steps: add the target tag to every contact of the source tags (one activity
per 50 source tags, each after the one before), then delete the sources, only once the adds
completed. The target is created when missing, after the yes. A source that names the target
(the same name the way Constant Contact compares names) is kept, renamed to the spelling
given, and never deleted. The preview shows each tag's count from one
`GET /contact_tags?include_count=true`; it always asks first, and needs the right to delete tags.
The launcher records it before it starts (bot/usecases/undo: `merged_tags` knows it by its
steps; `renamed_from` keeps the kept tag's old name), so `Undo` reverses it as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from bot.cc.client import AccountClient
from bot.cc.errors import CCError
from bot.cc.models import (
    MAX_SOURCE_TAG_IDS,
    ActivityKind,
    LimitError,
    Tag,
    TagDeleteRequest,
    TaggingRequest,
    build,
    validate_tag_name,
)
from bot.usecases.commands.command import Command
from bot.usecases.grammar import parse_merge
from bot.usecases.jobs import chunks
from bot.usecases.names import Named, ambiguity, pick
from bot.usecases.outcomes import Refused, cc_message, quoted
from bot.usecases.planning import calls_left_today
from bot.usecases.plans import Plan, Step
from bot.usecases.ports import DELETE_TAGS
from bot.usecases.resolver import picked

if TYPE_CHECKING:
    from bot.usecases.requests import Turn

_T = TypeVar("_T")
NEW = "new"  # the target's id in a preview, before the yes creates it


@dataclass(frozen=True)
class Merge:
    """`target` as typed; `kept`: the tag it names already (renamed when spelt otherwise);
    `sources`: the tags merged in and then deleted (never the kept one)."""

    target: str
    kept: Tag | None
    sources: tuple[Tag, ...]

    @property
    def renames(self) -> bool:
        return self.kept is not None and self.kept.name != self.target

    @property
    def summary(self) -> str:
        return f"merge tags {quoted([tag.name for tag in self.sources])} into “{self.target}”"


def resolve(tags: list[Tag], names: tuple[str, ...], target: str) -> Merge:
    """Every unknown or ambiguous source named at once; the target among the sources (the
    same name as Constant Contact compares names) is kept."""
    by_id = {tag.tag_id: tag for tag in tags}
    items = [Named(tag.tag_id, tag.name, tag.contacts_count) for tag in tags]
    ids, refusals = picked(names, "tag", lambda _fresh: items)
    named_target = pick(target, items)
    if named_target.ambiguous:
        refusals.append(ambiguity("tag", named_target))
    if refusals:
        raise Refused("; ".join(refusals))
    kept = by_id[named_target.found.ident] if named_target.found is not None else None
    if kept is not None and target.strip().lower() == kept.tag_id.lower():
        target = kept.name  # named by its id: kept as it is spelt
    sources = tuple(by_id[ident] for ident in ids if kept is None or ident != kept.tag_id)
    if not sources:
        raise Refused(f"Nothing to merge: every tag named is “{target}” itself")
    return Merge(target.strip(), kept, sources)


def plan(merge: Merge, target_id: str, calls_left: int | None) -> Plan:
    """Each add waits for the one before; the delete waits for the last add."""
    source_ids = [tag.tag_id for tag in merge.sources]
    steps: list[Step] = []
    for run in chunks(source_ids, MAX_SOURCE_TAG_IDS):
        body = build(TaggingRequest, {"source": {"tag_ids": list(run)}, "tag_ids": [target_id]})
        steps.append(Step(ActivityKind.ADD_TAGS, body, len(steps) - 1 if steps else None))
    delete = build(TagDeleteRequest, {"tag_ids": source_ids})
    steps.append(Step(ActivityKind.DELETE_TAGS, delete, len(steps) - 1))
    counts = [(tag.name, tag.contacts_count) for tag in merge.sources]
    return Plan(
        "merge_tags",
        merge.summary,
        tuple(steps),
        contacts=sum(count or 0 for _, count in counts),
        tag_counts=(*counts, _target_count(merge)),
        notes=(_target_note(merge),),
        calls_left=calls_left,
        warning=(
            f"The tags merged in are deleted once their contacts carry “{merge.target}”; "
            "an `Undo` makes them again with new ids."
        ),
        confirm=True,
        single_calls=1 if merge.kept is None or merge.renames else 0,
        renamed_from=merge.kept.name if merge.kept is not None and merge.renames else None,
    )


def _target_count(merge: Merge) -> tuple[str, int | None]:
    if merge.kept is None:
        return f"{merge.target} (new)", 0
    return f"{merge.target} (kept)", merge.kept.contacts_count


def _target_note(merge: Merge) -> str:
    if merge.kept is None:
        return f"“{merge.target}” is created, then given to every contact of the tags below."
    if merge.renames:
        return (
            f"“{merge.kept.name}” is kept, renamed to “{merge.target}”, and given to every "
            "contact of the tags below; it is not deleted."
        )
    return f"“{merge.target}” is kept and given to every contact of the tags below."


def _target_id(turn: Turn, account: AccountClient, merge: Merge) -> str:
    """After the yes: the target created when missing, or the kept one renamed as typed."""
    if merge.kept is None:
        return turn.ops.create_tag(turn.actor, account, merge.target).tag_id
    if merge.renames:
        turn.ops.rename_tag(turn.actor, account, merge.kept.name, merge.target)
    return merge.kept.tag_id


def _checked(work: Callable[[], _T]) -> _T:
    """Constant Contact's refusals and the API's limits, in a sentence."""
    try:
        return work()
    except LimitError as exc:
        raise Refused(str(exc)) from None
    except CCError as exc:
        raise Refused(cc_message(exc)) from None


def _merge(turn: Turn, rest: str) -> None:
    names, target = parse_merge(rest)
    _checked(lambda: validate_tag_name(target))  # a bad name costs no call
    turn.permit(DELETE_TAGS)
    account = turn.account()
    tags = _checked(lambda: account.list_tags(include_count=True))
    merge = resolve(tags, names, target)
    if turn.confirmed:
        target_id = _target_id(turn, account, merge)
    else:
        target_id = merge.kept.tag_id if merge.kept is not None else NEW
    turn.carry_out(account, plan(merge, target_id, calls_left_today(account)), f"merge {rest}")


COMMANDS = (
    Command(
        "merge",
        (
            "`/cctag merge <tag>[, <tag>...] --into <tag>`: give their contacts one tag "
            "(created when missing), then delete the others (shows each tag's count; asks first)",
        ),
        _merge,
        permission="merge",
    ),
)
