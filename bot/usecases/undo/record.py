"""The record of a change, taken before it starts: who among the contacts it can touch
already carried the tags it touches (or was on the lists); for a tag deleted, its name, its
`tag_source` and all its members. Tagging activities report only counts, so what a change did
is known only from what was recorded before it (API-FACTS: "Knowing who carries a tag").

Few calls: a warm contact index keeps each contact's taggings and list memberships, so the
record costs nothing (one `updated_after` refresh when the index is not fresh); a cold one
costs one `GET /contact_tags?include_count=true` (or `/contact_lists`) and the members of each
tag or list, 500 a call.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from bot.cc.client import AccountClient
from bot.cc.errors import CCError
from bot.cc.models import (
    MAX_PAGE_LIMIT,
    ActivityKind,
    ListMembershipRequest,
    TagDeleteRequest,
    TaggingRequest,
)
from bot.store.contact_index import IndexedContact, account_key_of
from bot.store.records import ChangeRecord, NewRecord, RecordStore
from bot.usecases.inputs import Actor
from bot.usecases.outcomes import Refused, cc_message
from bot.usecases.people import ContactResolver, indexed
from bot.usecases.plans import Plan
from bot.usecases.service import Operations

TAG_KINDS = (ActivityKind.ADD_TAGS, ActivityKind.REMOVE_TAGS, ActivityKind.DELETE_TAGS)
MERGE = "merge_tags"  # a merge's record kind: its steps are of several kinds
MERGE_UNDO = "merge_tags_undo"  # the undo of a merge: undoing it merges again
LIST_KINDS = (ActivityKind.ADD_TO_LISTS, ActivityKind.REMOVE_FROM_LISTS)
INDEX, PAGES = "index", "pages"


class Held(BaseModel):
    """One tag or list the change touches, and who carried it (was on it) before."""

    id: str
    name: str = ""
    tag_source: str | None = None
    # Among the change's contacts when it names them, else every one.
    before: list[str] = Field(default_factory=list)


class RecordData(BaseModel):
    kind: str  # the change's ActivityKind
    # The contact ids the change names (None: a source of lists, tags, all active contacts...).
    targets: list[str] | None = None
    held: list[Held] = Field(default_factory=list)
    # Each activity's request body, in the order they start.
    requests: list[dict[str, object]] = Field(default_factory=list)
    # The change created this tag (an undo of a delete): undoing it deletes the tag again.
    created_tag: str | None = None
    # A merge: `held` are its sources (all their members); the tag they were merged into,
    # who carried it before, and its name before the merge renamed it (if it did). A merge's
    # undo: `held` are the tags it made again, `target.before` those it took the target off.
    target: Held | None = None
    renamed_from: str | None = None
    # The sources' members' emails, read with them from the API (a cold index cannot name
    # them later): an undo names those it leaves alone.
    emails: dict[str, str] = Field(default_factory=dict)
    calls: int = 0
    method: str = INDEX

    @property
    def lists(self) -> bool:
        return self.kind in LIST_KINDS

    @property
    def merge(self) -> bool:
        return self.kind == MERGE

    @property
    def merge_undo(self) -> bool:
        return self.kind == MERGE_UNDO


def loads(record: ChangeRecord) -> RecordData:
    return RecordData.model_validate_json(record.data)


@dataclass(frozen=True)
class Members:
    """Who carries each tag (is on each list) now, by contact id, and what reading it cost."""

    of: dict[str, dict[str, IndexedContact]]
    calls: int
    method: str
    names: dict[str, tuple[str, str | None]]  # id → name, tag_source


def record_change(
    ops: Operations,
    actor: Actor,
    account: AccountClient,
    plan: Plan,
    channel: str,
    parent_ts: str,
    *,
    job_id: str | None = None,
) -> ChangeRecord | None:
    """The one entry point: called by the launcher before the change's first activity starts.
    Nothing is recorded for a change that touches no contact's tags or lists. Refused (and the
    change does not start) when Constant Contact cannot tell who carries what."""
    try:
        return _record(ops, actor, account, plan, channel, parent_ts, job_id)
    except CCError as exc:
        raise Refused(f"Recording what an undo would need failed: {cc_message(exc)}") from None


def _record(
    ops: Operations,
    actor: Actor,
    account: AccountClient,
    plan: Plan,
    channel: str,
    parent_ts: str,
    job_id: str | None,
) -> ChangeRecord | None:
    kind = plan_kind(plan)
    if kind is None:
        if merged_tags(plan) is None:
            return None
        return save_record(
            ops, actor, plan, channel, parent_ts, job_id, _merge_data(ops, actor, account, plan)
        )
    requests = [part.model_dump(mode="json", exclude_none=True) for part in plan.parts]
    ids = touched_ids(kind, plan.parts)
    targets = named_contacts(plan.parts)
    members = read_members(ops, actor, account, ids, lists=kind in LIST_KINDS)
    held = []
    for held_id in ids:
        now = members.of.get(held_id, {})
        before = sorted(now if targets is None else set(targets) & set(now))
        name, source = members.names.get(held_id, ("", None))
        held.append(Held(id=held_id, name=name, tag_source=source, before=before))
    data = RecordData(
        kind=kind.value,
        targets=targets,
        held=held,
        requests=requests,
        calls=members.calls,
        method=members.method,
    )
    return save_record(ops, actor, plan, channel, parent_ts, job_id, data)


def save_record(
    ops: Operations,
    actor: Actor,
    plan: Plan,
    channel: str,
    parent_ts: str,
    job_id: str | None,
    data: RecordData,
) -> ChangeRecord:
    return RecordStore(ops.store).save(
        NewRecord(
            workspace_id=actor.workspace_id,
            channel_id=channel,
            parent_ts=parent_ts,
            job_id=job_id,
            requester_id=actor.user_id,
            kind=data.kind,
            summary=plan.summary,
            data=data.model_dump_json(),
        )
    )


def merged_tags(plan: Plan) -> tuple[list[str], str] | None:
    """A merge's sources and target: tags added to the sources' members, then the sources
    deleted; None for any other plan."""
    adds = [p for p in plan.parts if isinstance(p, TaggingRequest)]
    deletes = [p for p in plan.parts if isinstance(p, TagDeleteRequest)]
    kinds = [step.kind for step in plan.steps]
    if set(kinds) != {ActivityKind.ADD_TAGS, ActivityKind.DELETE_TAGS} or len(deletes) != 1:
        return None
    targets = {tag for add in adds for tag in add.tag_ids}
    sources = [tag for add in adds for tag in add.source.tag_ids or []]
    if len(targets) != 1 or sorted(sources) != sorted(deletes[0].tag_ids):
        return None
    [target] = targets
    return sources, target


def _merge_data(ops: Operations, actor: Actor, account: AccountClient, plan: Plan) -> RecordData:
    """Each source tag's name, `tag_source` and members; who carried the target before."""
    found = merged_tags(plan)
    assert found is not None
    sources, target = found
    members = read_members(ops, actor, account, [*sources, target], lists=False)

    def held(tag_id: str) -> Held:
        name, source = members.names.get(tag_id, ("", None))
        before = sorted(members.of.get(tag_id, {}))
        return Held(id=tag_id, name=name, tag_source=source, before=before)

    return RecordData(
        kind=MERGE,
        held=[held(tag_id) for tag_id in sources],
        requests=[part.model_dump(mode="json", exclude_none=True) for part in plan.parts],
        target=held(target),
        renamed_from=plan.renamed_from,
        emails={}
        if members.method == INDEX
        else {c: i.email for tag_id in sources for c, i in members.of.get(tag_id, {}).items()},
        calls=members.calls,
        method=members.method,
    )


def plan_kind(plan: Plan) -> ActivityKind | None:
    """The one kind of a plan whose steps change tags or lists; None for any other (a plan of
    several kinds, such as a merge, is recorded as a whole: `merged_tags`)."""
    kinds = {step.kind for step in plan.steps}
    if len(kinds) != 1:
        return None
    [kind] = kinds
    return kind if kind in (*TAG_KINDS, *LIST_KINDS) else None


def change_recorder(
    ops: Operations, actor: Actor
) -> Callable[[AccountClient, Plan, str, str, str | None], str | None]:
    """What the launcher calls before a plan starts: the record's id (None: none needed)."""

    def record(
        account: AccountClient, plan: Plan, channel: str, parent_ts: str, job_id: str | None
    ) -> str | None:
        found = record_change(ops, actor, account, plan, channel, parent_ts, job_id=job_id)
        return None if found is None else found.id

    return record


def touched_ids(kind: ActivityKind, parts: Sequence[BaseModel]) -> list[str]:
    """The tags or lists the change touches, each once, in order."""
    found: list[str] = []
    for part in parts:
        dumped = part.model_dump()
        found += dumped.get("list_ids" if kind in LIST_KINDS else "tag_ids") or []
    return list(dict.fromkeys(found))


def named_contacts(parts: Sequence[BaseModel]) -> list[str] | None:
    """The contact ids every part names, or None when a part's source is not contact ids."""
    found: list[str] = []
    for part in parts:
        if not isinstance(part, TaggingRequest | ListMembershipRequest):
            return None
        ids = part.source.contact_ids
        if not ids:
            return None
        found += ids
    return sorted(set(found))


def read_members(
    ops: Operations, actor: Actor, account: AccountClient, ids: Sequence[str], *, lists: bool
) -> Members:
    """Who carries each tag (is on each list): the warm index, else the API."""
    resolver: ContactResolver = ops.resolver
    after = RecordStore(ops.store).last_change_ended(actor.workspace_id)
    calls = resolver.fresh_index(account, account_key=account.account_key, after=after)
    if calls is not None:
        key = account_key_of(account.account_key)
        index = resolver.index
        of = {
            held: index.carrying(key, list_id=held) if lists else index.carrying(key, tag_id=held)
            for held in ids
        }
        names = _names_from_catalog(ops, actor.workspace_id, account, lists)
        return Members(of, calls, INDEX, names)
    return _members_from_api(account, ids, lists=lists)


def _names_from_catalog(
    ops: Operations, workspace: str, account: AccountClient, lists: bool
) -> dict[str, tuple[str, str | None]]:
    if lists:
        return {
            found.list_id: (found.name, None) for found in ops.catalog.lists(workspace, account)
        }
    return {tag.tag_id: (tag.name, tag.tag_source) for tag in ops.catalog.tags(workspace, account)}


def _members_from_api(account: AccountClient, ids: Sequence[str], *, lists: bool) -> Members:
    """One call for every tag's (list's) count and name; then the members of those that have
    any, 500 a call."""
    names: dict[str, tuple[str, str | None]] = {}
    counts: dict[str, int] = {}
    if lists:
        for found in account.iter_lists(include_membership_count=True):
            names[found.list_id] = (found.name, None)
            counts[found.list_id] = found.membership_count or 0
    else:
        for tag in account.iter_tags(include_count=True):
            names[tag.tag_id] = (tag.name, tag.tag_source)
            counts[tag.tag_id] = tag.contacts_count or 0
    calls = 1
    of: dict[str, dict[str, IndexedContact]] = {}
    for held in ids:
        of[held] = {}
        if not counts.get(held):
            continue
        pages = account.iter_members(list_id=held) if lists else account.iter_members(tag_id=held)
        for page in pages:
            calls += 1
            of[held].update((c.contact_id, c) for c in indexed(page))
    return Members(of, calls, PAGES, names)


def record_cost(ops: Operations, actor: Actor, account: AccountClient, plan: Plan) -> int | None:
    """What recording the plan costs (for the preview): 0 or 1 call with a warm index, else
    one call plus one per 500 members of each tag or list (its count as last seen), or None
    when the change needs no record."""
    kind = plan_kind(plan)
    if kind is None and merged_tags(plan) is None:
        return None
    after = RecordStore(ops.store).last_change_ended(actor.workspace_id)
    warm = ops.resolver.index_cost(account_key=account.account_key, after=after)
    if warm is not None:
        return warm
    if kind is None:  # a merge: its preview counted every tag's members; empty tags cost none
        return 1 + sum(math.ceil((count or 0) / MAX_PAGE_LIMIT) for _, count in plan.tag_counts)
    ids = touched_ids(kind, plan.parts)
    # A delete's preview counted each tag's members; otherwise a page each is the guess.
    counts = [count for _, count in plan.tag_counts] or [None] * len(ids)
    total = 1
    for count in counts:
        total += max(1, math.ceil((count or 0) / MAX_PAGE_LIMIT))
    return total


def with_record_cost(ops: Operations, actor: Actor, account: AccountClient, plan: Plan) -> Plan:
    """The plan, its preview saying what recording it for an undo costs."""
    cost = record_cost(ops, actor, account, plan)
    if cost is None:
        return plan
    calls = "no API call" if cost == 0 else f"about {cost} API call" + ("" if cost == 1 else "s")
    note = f"Recording who carries what before it starts, so it can be undone: {calls}."
    return dataclasses.replace(plan, notes=(note, *plan.notes))
