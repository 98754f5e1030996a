"""The undo of a change, planned from its record and from the account as it is now.

- a tag added is removed only from the contacts the change reached that did not carry it
  before; a tag removed is given back only to those that carried it; list memberships alike;
- a deleted tag is created again under its name and `tag_source` and given back to its members
  (a segment or automation that named the old id does not follow: the preview says so); a tag
  the change created (an undo of a delete) is deleted again;
- a merge as a whole: its deleted sources made again and given back to their members, its
  target taken off those of their members that did not carry it before, a kept target renamed
  back;
- only what the change did: the contacts of its completed activities (a job's failed parts
  changed nothing);
- contacts changed since by someone else (the tag or list no longer as the change left it)
  and contacts deleted since are named and left as they are.
The undo runs as a job in the change's own thread, once: the record is claimed by one undo.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import BaseModel

from bot.cc.client import AccountClient
from bot.cc.errors import CCError, Conflict
from bot.cc.models import (
    MAX_CONTACT_IDS,
    ActivityKind,
    ListMembershipRequest,
    TagDeleteRequest,
    TaggingRequest,
    build,
)
from bot.store.contact_index import account_key_of
from bot.store.jobs import ENDED, JobStore
from bot.store.records import ChangeRecord, RecordStore
from bot.usecases.inputs import Actor
from bot.usecases.jobs import chunks
from bot.usecases.launch import Launched, Launcher, RecordChange, activities
from bot.usecases.outcomes import Refused, cc_message, plural, quoted
from bot.usecases.people import DELETED, indexed, is_uuid
from bot.usecases.plans import Plan, Step
from bot.usecases.ports import Conversation, Message, Pending
from bot.usecases.service import Operations
from bot.usecases.undo.record import (
    MERGE,
    MERGE_UNDO,
    Held,
    RecordData,
    change_recorder,
    loads,
    read_members,
    save_record,
)

COMPLETED = "completed"
# How far before the record a contact's deletion is looked for (clocks that disagree).
SKEW = timedelta(minutes=2)
INVERSE = {
    ActivityKind.ADD_TAGS: ActivityKind.REMOVE_TAGS,
    ActivityKind.REMOVE_TAGS: ActivityKind.ADD_TAGS,
    ActivityKind.ADD_TO_LISTS: ActivityKind.REMOVE_FROM_LISTS,
    ActivityKind.REMOVE_FROM_LISTS: ActivityKind.ADD_TO_LISTS,
    ActivityKind.DELETE_TAGS: ActivityKind.ADD_TAGS,
}
ADDS = (ActivityKind.ADD_TAGS, ActivityKind.ADD_TO_LISTS)


@dataclass(frozen=True)
class Reversal:
    """Contacts to change back on one tag or list (for a deleted tag: its old id); `kind`:
    the activity, when not the undo's own (a merge's undo adds and removes)."""

    held: Held
    contacts: tuple[str, ...]
    kind: ActivityKind | None = None


@dataclass(frozen=True)
class UndoPlan:
    record: ChangeRecord
    data: RecordData
    change_id: str
    kind: ActivityKind
    reversals: tuple[Reversal, ...] = ()
    recreate: tuple[Held, ...] = ()
    delete_again: tuple[Held, ...] = ()
    left_alone: tuple[str, ...] = ()  # changed since by someone else, named
    deleted_since: tuple[str, ...] = ()
    calls: int = 0  # reading who carries what now
    notes: tuple[str, ...] = field(default_factory=tuple)
    rename_back: tuple[Held, str] | None = None  # a merge's kept target, its name before

    @property
    def contacts(self) -> int:
        return len({c for r in self.reversals for c in r.contacts})

    @property
    def summary(self) -> str:
        return f"undo “{self.record.summary}”"

    @property
    def action(self) -> str:
        return f"{MERGE}_undo" if self.data.merge else self.kind.value

    @property
    def single_calls(self) -> int:
        """Calls made before the activities: tags made again, a tag renamed back."""
        return len(self.recreate) + (self.rename_back is not None)

    def steps(self, new_ids: dict[str, str]) -> tuple[Step, ...]:
        """The undo's activities, none waiting; a deleted tag's contacts go to the tag made
        again."""
        lists = self.data.lists
        model: type[BaseModel] = ListMembershipRequest if lists else TaggingRequest
        key = "list_ids" if lists else "tag_ids"
        delete: tuple[Step, ...] = ()
        if self.delete_again:
            body = build(TagDeleteRequest, {"tag_ids": [h.id for h in self.delete_again]})
            delete = (Step(ActivityKind.DELETE_TAGS, body),)
        return delete + tuple(
            Step(
                r.kind or self.kind,
                build(
                    model,
                    {
                        "source": {"contact_ids": list(run)},
                        key: [new_ids.get(r.held.id, r.held.id)],
                    },
                ),
            )
            for r in self.reversals
            for run in chunks(sorted(r.contacts), MAX_CONTACT_IDS)
        )

    def requests(self, new_ids: dict[str, str]) -> list[BaseModel]:
        return [step.body for step in self.steps(new_ids)]

    @property
    def activities(self) -> int:
        adds = sum(len(chunks(r.contacts, MAX_CONTACT_IDS)) for r in self.reversals)
        return adds + bool(self.delete_again)


# ---------------------------------------------------------------- which change, what it did


@dataclass(frozen=True)
class _Change:
    record: ChangeRecord
    ident: str  # the job's or the activity's id
    # Per tag or list id: the contacts the completed activities named (None: all it names).
    done: dict[str, set[str] | None]
    completed: tuple[dict[str, object], ...] = ()  # the completed activities' bodies


def _find(ops: Operations, actor: Actor, change_id: str) -> _Change:
    ident = change_id.strip().lower()
    if not is_uuid(ident):
        raise Refused(
            f"“{change_id.strip()[:60]}” is not an activity or job id (ids look like "
            "8-4-4-4-12 hexadecimal digits): `/cctag undo <activity or job id>`"
        )
    tracked = ops.store.get_tracked(actor.workspace_id, ident)
    if tracked is not None and tracked.job_id is not None:
        ident = tracked.job_id  # a part of a job: the job is undone as a whole
    job = JobStore(ops.store).get(ident)
    if job is not None and job.workspace_id == actor.workspace_id:
        record = RecordStore(ops.store).of_job(actor.workspace_id, job.id)
        if record is None:
            raise Refused(f"Job `{job.id}` left no record of what it changed: it cannot be undone")
        if job.state != ENDED:
            raise Refused(f"Job `{job.id}` is still running: undo it once it has ended")
        completed = [p.request for p in job.parts if p.state == COMPLETED]
        return _Change(record, job.id, _done_in_parts(loads(record), completed), tuple(completed))
    if tracked is None:
        raise Refused(f"No change `{ident}` was made through cctag in this workspace")
    record = RecordStore(ops.store).of_activity(actor.workspace_id, tracked.activity_id)
    if record is None:
        raise Refused(f"Activity `{ident}` left no record of what it changed: it cannot be undone")
    if tracked.ended_at is None:
        raise Refused(f"Activity `{ident}` is still running: undo it once it has ended")
    data = loads(record)
    partly = bool(tracked.items_completed_count) and tracked.state != COMPLETED
    requests = data.requests if tracked.state == COMPLETED or partly else []
    return _Change(record, ident, _done_in_parts(data, requests), tuple(requests))


def _done_in_parts(
    data: RecordData, requests: Sequence[dict[str, object]]
) -> dict[str, set[str] | None]:
    done: dict[str, set[str] | None] = {}
    key = "list_ids" if data.lists else "tag_ids"
    for request in requests:
        source = request.get("source")
        ids = source.get("contact_ids") if isinstance(source, dict) else None
        held_ids = request.get(key)
        for held in held_ids if isinstance(held_ids, list) else []:
            if (
                not isinstance(ids, list)
                or data.targets is None
                or (held in done and done[held] is None)
            ):
                done[held] = None
            else:
                done[held] = (done.get(held) or set()) | set(ids)
    return done


# ---------------------------------------------------------------- the plan


class Undoer:
    """Plans and runs undos; `days` is CCTAG_UNDO_DAYS."""

    def __init__(self, ops: Operations, days: float) -> None:
        self.ops = ops
        self.days = days

    def plan(self, actor: Actor, account: AccountClient, change_id: str) -> UndoPlan:
        change = _find(self.ops, actor, change_id)
        record = change.record
        age = self.ops.store.clock.now() - record.created_at
        if age > timedelta(days=self.days):
            raise Refused(
                f"This change was made {age.days} days ago; changes can be undone for "
                f"{self.days:g} days (CCTAG_UNDO_DAYS)"
            )
        if record.undo_claim is not None:
            by = f" by <@{record.undone_by}>" if record.undone_by else ""
            job = f" (job `{record.undo_job_id}`)" if record.undo_job_id else ""
            raise Refused(f"This change was already undone{by}{job}")
        if not change.done:
            raise Refused("This change did not change anything: no activity of it completed")
        try:
            return self._plan(actor, account, change)
        except CCError as exc:
            raise Refused(cc_message(exc)) from None

    def _plan(self, actor: Actor, account: AccountClient, change: _Change) -> UndoPlan:
        record, data = change.record, loads(change.record)
        if data.merge:
            return self._plan_merge(actor, account, change)
        if data.merge_undo:
            return self._plan_merge_again(actor, account, change)
        kind = ActivityKind(data.kind)
        ident = change.ident
        if data.created_tag is not None:
            made = next(
                (h for h in data.held if h.id == data.created_tag), Held(id=data.created_tag)
            )
            return UndoPlan(record, data, ident, ActivityKind.DELETE_TAGS, delete_again=(made,))
        held = [h for h in data.held if h.id in change.done]
        if kind == ActivityKind.DELETE_TAGS:
            members = sorted({c for h in held for c in h.before})
            deleted, calls, names = self._deleted(account, record, members)
            reversals = tuple(
                Reversal(h, tuple(c for c in h.before if c not in deleted)) for h in held
            )
            return UndoPlan(
                record,
                data,
                ident,
                ActivityKind.ADD_TAGS,
                reversals,
                recreate=tuple(held),
                deleted_since=_named(deleted, names),
                calls=calls,
            )
        now = read_members(self.ops, actor, account, [h.id for h in held], lists=data.lists)
        targets = set(data.targets) if data.targets is not None else None
        changes: list[tuple[Held, set[str]]] = []
        left: set[str] = set()
        for h in held:
            done = change.done[h.id]
            reached = done if done is not None else targets
            back, changed = _reverse_one(kind, set(h.before), reached, set(now.of.get(h.id, {})))
            changes.append((h, back))
            left |= changed
        candidates = {c for _, back in changes for c in back}
        deleted, calls, names = self._deleted(account, record, sorted(candidates))
        statuses = {c: i for members in now.of.values() for c, i in members.items()}
        deleted |= {c for c in candidates if c in statuses and statuses[c].status == DELETED}
        names.update({c: i.email for c, i in statuses.items()})
        names.update(self._emails(account, left - set(names)))
        reversals = tuple(
            Reversal(h, tuple(sorted(back - deleted))) for h, back in changes if back - deleted
        )
        return UndoPlan(
            record,
            data,
            ident,
            INVERSE[kind],
            reversals,
            left_alone=_named(left, names),
            deleted_since=_named(deleted & candidates, names),
            calls=now.calls + calls,
        )

    def _plan_merge(self, actor: Actor, account: AccountClient, change: _Change) -> UndoPlan:
        """The sources its completed delete removed made again for their members; the target
        taken off the members of the sources its completed adds reached that did not carry
        it before (and still do); a kept target renamed back."""
        record, data = change.record, loads(change.record)
        target = data.target
        assert target is not None, "a merge's record names its target"
        reached_ids, deleted_ids = _merge_done(change.completed)
        reached = {c for h in data.held if h.id in reached_ids for c in h.before}
        recreate = tuple(h for h in data.held if h.id in deleted_ids)
        now = read_members(self.ops, actor, account, [target.id], lists=False)
        carriers = now.of.get(target.id, {})
        back, left = _reverse_one(ActivityKind.ADD_TAGS, set(target.before), reached, set(carriers))
        members = {c for h in recreate for c in h.before}
        deleted, calls, found = self._deleted(account, record, sorted(back | members))
        deleted |= {c for c in back if carriers[c].status == DELETED}
        names = {**data.emails, **found, **{c: i.email for c, i in carriers.items()}}
        names.update(self._emails(account, left - set(names)))
        reversals = [
            Reversal(h, tuple(c for c in h.before if c not in deleted), ActivityKind.ADD_TAGS)
            for h in recreate
            if set(h.before) - deleted
        ]
        if back - deleted:
            taken = tuple(sorted(back - deleted))
            reversals.append(Reversal(target, taken, ActivityKind.REMOVE_TAGS))
        renamed = data.renamed_from
        return UndoPlan(
            record,
            data,
            change.ident,
            ActivityKind.REMOVE_TAGS if back - deleted else ActivityKind.ADD_TAGS,
            tuple(reversals),
            recreate=recreate,
            left_alone=_named(left, names),
            deleted_since=_named(deleted, names),
            calls=now.calls + calls,
            rename_back=None if renamed is None else (target, renamed),
        )

    def _plan_merge_again(self, actor: Actor, account: AccountClient, change: _Change) -> UndoPlan:
        """The undo of a merge's undo merges again: the target given back to those its
        completed activities took it off (still without it), the tags it made deleted again,
        the target renamed again."""
        record, data = change.record, loads(change.record)
        target = data.target
        assert target is not None, "a merge's undo names the merge's target"
        reached = {
            c
            for request in change.completed
            if request.get("tag_ids") == [target.id]
            for c in _contact_ids(request)
        }
        now = read_members(self.ops, actor, account, [target.id], lists=False)
        carriers = now.of.get(target.id, {})
        back, left = _reverse_one(
            ActivityKind.REMOVE_TAGS, set(target.before), reached, set(carriers)
        )
        deleted, calls, names = self._deleted(account, record, sorted(back))
        names.update({c: i.email for c, i in carriers.items()})
        names.update(self._emails(account, left - set(names)))
        give = tuple(sorted(back - deleted))
        renamed = data.renamed_from
        return UndoPlan(
            record,
            data,
            change.ident,
            ActivityKind.ADD_TAGS,
            (Reversal(target, give, ActivityKind.ADD_TAGS),) if give else (),
            delete_again=tuple(data.held),
            left_alone=_named(left, names),
            deleted_since=_named(deleted, names),
            calls=now.calls + calls,
            rename_back=None if renamed is None else (target, renamed),
        )

    def _deleted(
        self, account: AccountClient, record: ChangeRecord, contacts: Sequence[str]
    ) -> tuple[set[str], int, dict[str, str]]:
        """Which of `contacts` were deleted (since the record), the calls it took, their emails:
        the warm index knows; else the contacts deleted since the record, 500 a call."""
        if not contacts:
            return set(), 0, {}
        after = RecordStore(self.ops.store).last_change_ended(record.workspace_id)
        key = account.account_key
        refreshed = self.ops.resolver.fresh_index(account, account_key=key, after=after)
        if refreshed is not None:
            known = self.ops.resolver.index.by_ids(account_key_of(account.account_key), contacts)
            gone = {c for c, i in known.items() if i.status == DELETED}
            return gone, refreshed, {c: i.email for c, i in known.items()}
        wanted, gone, names, calls = set(contacts), set[str](), dict[str, str](), 0
        since = record.created_at - SKEW
        for page in account.iter_contact_pages(status="deleted", updated_after=since):
            calls += 1
            for found in indexed(page):
                if found.contact_id in wanted:
                    gone.add(found.contact_id)
                    names[found.contact_id] = found.email
        return gone, calls, names

    def _emails(self, account: AccountClient, contacts: set[str]) -> dict[str, str]:
        if not contacts:
            return {}
        known = self.ops.resolver.index.by_ids(
            account_key_of(account.account_key), sorted(contacts)
        )
        return {c: i.email for c, i in known.items()}

    # ------------------------------------------------------------ run
    def run(
        self, actor: Actor, account: AccountClient, plan: UndoPlan, talk: Conversation
    ) -> tuple[Launched, Plan]:
        """Claimed once (a second undo, at once or later, is refused), then launched as a plan
        told in the change's thread, recorded in turn. A tag deleted is made again first."""
        records = RecordStore(self.ops.store)
        claim = str(uuid.uuid4())
        if not records.claim(plan.record.id, claim, actor.user_id):
            raise Refused("This change is being undone already (or was): it is undone once")
        try:
            if plan.rename_back is not None:
                self._rename_back(actor, account, *plan.rename_back)
            made = {h.id: self._make_again(actor, account, h) for h in plan.recreate}
            job_plan = Plan(
                plan.action,
                plan.summary,
                plan.steps({old: tag for old, (tag, _) in made.items()}),
                contacts=plan.contacts,
                single_calls=plan.single_calls,
            )
            recorder = (
                self._merge_undo_recorder(actor, plan, made)
                if plan.data.merge
                else change_recorder(self.ops, actor)
            )
            launcher = Launcher(
                self.ops.store,
                self.ops.starter(actor),
                actor,
                InThread(talk, plan.record.parent_ts),
                recorder,
            )
            launched = launcher.launch(account, job_plan, plan.record.channel_id)
        except BaseException:
            records.release(plan.record.id, claim)
            raise
        undo = launched.job.id if launched.job else launched.started[0].activity_id
        records.undone_by(plan.record.id, claim, undo)
        created = [tag for tag, new in made.values() if new]
        if created and not plan.data.merge:  # a merge's undo recorded them all
            records.created_tag(undo, created[0])
        self.ops.audit(actor, "undo", plan.change_id, f"started {undo}")
        return launched, job_plan

    def _merge_undo_recorder(
        self, actor: Actor, plan: UndoPlan, made: dict[str, tuple[str, bool]]
    ) -> RecordChange:
        """A merge's undo is recorded from what it does (no call): the tags it made, the
        contacts it takes the target off, the name it renames the target back from."""
        target = plan.data.target
        assert target is not None
        renamed = plan.rename_back[1] if plan.rename_back is not None else None
        taken = [c for r in plan.reversals if r.held.id == target.id for c in r.contacts]
        data = RecordData(
            kind=MERGE_UNDO,
            held=[
                Held(id=made[h.id][0], name=h.name, tag_source=h.tag_source, before=h.before)
                for h in plan.recreate
                if made[h.id][1]  # a tag of its name found again is not the undo's to delete
            ],
            target=Held(id=target.id, name=renamed or target.name, before=sorted(taken)),
            renamed_from=None if renamed is None else target.name,
        )

        def record(
            account: AccountClient, job_plan: Plan, channel: str, ref: str, job_id: str | None
        ) -> str | None:
            parts = [p.model_dump(mode="json", exclude_none=True) for p in job_plan.parts]
            full = data.model_copy(update={"requests": parts})
            return save_record(self.ops, actor, job_plan, channel, ref, job_id, full).id

        return record

    def _rename_back(self, actor: Actor, account: AccountClient, held: Held, name: str) -> None:
        try:
            account.rename_tag(held.id, name)
        except CCError as exc:
            raise Refused(f"Renaming “{held.name}” back failed: {cc_message(exc)}") from None
        self.ops.catalog.forget_tags(actor.workspace_id)
        self.ops.audit(actor, "rename_tag", f"{held.name} → {name}", f"renamed {held.id}")

    def _make_again(self, actor: Actor, account: AccountClient, held: Held) -> tuple[str, bool]:
        """The tag's new id, and whether it was made now (a tag of its name may exist again)."""
        try:
            tag = account.create_tag(held.name, held.tag_source)
        except Conflict:
            found = account.find_tag_by_name(held.name)
            if found is None:
                raise
            return found.tag_id, False
        except CCError as exc:
            raise Refused(cc_message(exc)) from None
        self.ops.catalog.forget_tags(actor.workspace_id)
        return tag.tag_id, True


def _reverse_one(
    kind: ActivityKind, before: set[str], reached: set[str] | None, carriers: set[str]
) -> tuple[set[str], set[str]]:
    """For one tag or list: the contacts to change back, and those changed since by someone
    else (left as they are). `reached`: the contacts the change's completed activities named
    (None: not named one by one; then every carrier now that did not carry it before)."""
    if kind in ADDS:
        touched = (carriers if reached is None else reached) - before
        kept = before if reached is None else before & reached
        # No longer carrying it, whether the change added it or it was there before.
        return touched & carriers, (touched - carriers) | (kept - carriers)
    touched = before if reached is None else before & reached
    return touched - carriers, touched & carriers  # given back since by someone else


def _merge_done(completed: Sequence[dict[str, object]]) -> tuple[set[str], set[str]]:
    """A merge's sources whose members its completed adds reached, and those it deleted."""
    reached: set[str] = set()
    deleted: set[str] = set()
    for request in completed:
        source = request.get("source")
        tag_ids = request.get("tag_ids")
        if isinstance(source, dict):
            reached |= set(source.get("tag_ids") or [])
        elif isinstance(tag_ids, list):
            deleted |= set(tag_ids)
    return reached, deleted


def _contact_ids(request: dict[str, object]) -> list[str]:
    source = request.get("source")
    ids = source.get("contact_ids") if isinstance(source, dict) else None
    return [c for c in ids if isinstance(c, str)] if isinstance(ids, list) else []


def _named(contacts: set[str], names: dict[str, str]) -> tuple[str, ...]:
    return tuple(sorted(names.get(c, c) for c in contacts))


# ---------------------------------------------------------------- telling it


class InThread:
    """The undo is told in the thread of the change it undoes: no new parent message; the
    parent's line follows the undo."""

    def __init__(self, talk: Conversation, parent_ts: str) -> None:
        self._talk = talk
        self._parent_ts = parent_ts

    def say(self, message: Message) -> None:
        self._talk.say(message)

    def refuse(self, reason: str) -> None:
        self._talk.refuse(reason)

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        self._talk.ask_to_confirm(preview, pending)

    def open_form(self, command: str) -> None:
        self._talk.open_form(command)

    def post_parent(self, channel: str, message: Message) -> str:
        return self._parent_ts

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        self._talk.update_parent(channel, ref, message)


def _what(plan: UndoPlan, reversal: Reversal) -> str:
    what = "list" if plan.data.lists else "tag"
    kind = reversal.kind or plan.kind
    name = quoted([reversal.held.name or reversal.held.id])
    count = f"*{plural(len(reversal.contacts), 'contact')}*"
    verbs = {
        ActivityKind.REMOVE_TAGS: f"remove the {what} {name} from {count}",
        ActivityKind.ADD_TAGS: f"give the {what} {name} back to {count}",
        ActivityKind.REMOVE_FROM_LISTS: f"remove {count} from the {what} {name}",
        ActivityKind.ADD_TO_LISTS: f"put {count} back on the {what} {name}",
    }
    return verbs[kind]


def preview(plan: UndoPlan, listed: int = 1200) -> Message:
    record = plan.record
    when = record.created_at.strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"You asked to *{plan.summary}* (`{plan.change_id}`, asked by "
        f"<@{record.requester_id}> on {when})."
    ]
    for held in plan.delete_again:
        lines.append(
            f"It deletes the tag {quoted([held.name or held.id])} again, which the undo made."
        )
    for held in plan.recreate:
        source = f" (source “{held.tag_source}”)" if held.tag_source else ""
        lines.append(f"It creates the tag {quoted([held.name])}{source} again, with a new id.")
    if plan.recreate:
        lines.append(
            ":warning: Segments or automations that named the deleted tag's id do not follow: "
            "point them at the new tag."
        )
    if plan.rename_back is not None:
        held, name = plan.rename_back
        lines.append(f"It renames the tag {quoted([held.name])} back to {quoted([name])}.")
    lines += [f"It will {_what(plan, r)}." for r in plan.reversals]
    lines.append(
        f"It runs as *{activities(plan.activities)}*: "
        f"{plural(plan.activities + plan.single_calls, 'API call')} to start (reading who carries "
        f"what now took {plural(plan.calls, 'call')})."
    )
    if plan.left_alone:
        lines.append(
            f"• *{plural(len(plan.left_alone), 'contact')}* changed since by someone else, left "
            f"as they are: {_listed(plan.left_alone, listed)}"
        )
    if plan.deleted_since:
        lines.append(
            f"• *{plural(len(plan.deleted_since), 'contact')}* deleted since, left out: "
            f"{_listed(plan.deleted_since, listed)}"
        )
    return Message("\n".join(lines))


def _listed(names: Sequence[str], budget: int) -> str:
    from bot.mrkdwn import shorten_names

    return shorten_names(list(names), budget, escaping=False)


def nothing_left(plan: UndoPlan) -> bool:
    return not (plan.reversals or plan.delete_again or plan.recreate or plan.rename_back)
