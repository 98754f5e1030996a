"""The use cases: resolve names, check limits, preview counts, start activities, audit.

No Slack payloads and no HTTP here: plain inputs (bot/usecases/inputs.py), an AccountClient,
the Store. Every refusal raises `Refused` with a message a person understands, after auditing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from bot.cc import inputs
from bot.cc.budget import BudgetSpent
from bot.cc.client import MAX_LISTS_PER_CONTACT_QUERY, MAX_TAGS_PER_CONTACT_QUERY, AccountClient
from bot.cc.errors import CCError, Conflict, NotFound, QuotaExhausted, RateLimited
from bot.cc.models import (
    MAX_CONTACT_IDS,
    MAX_SOURCE_LIST_IDS,
    MAX_SOURCE_TAG_IDS,
    MAX_TAGS_PER_TAGGING,
    MAX_TARGET_LIST_IDS,
    Activity,
    ActivityKind,
    LimitError,
    ListAddSource,
    ListMembershipRequest,
    ListRemoveSource,
    Tag,
    TagDeleteRequest,
    TaggingRequest,
    TaggingSource,
    build,
    validate_tag_name,
)
from bot.clock import SYSTEM_CLOCK, Clock
from bot.mrkdwn import shorten_names
from bot.store import Store, TrackedActivity
from bot.store.jobs import RUNNING, Job, JobStore
from bot.usecases.catalog import Catalog
from bot.usecases.inputs import (
    Actor,
    BulkInput,
    DeleteInput,
    ListsInput,
    Source,
    SourceKind,
    TaggingInput,
)
from bot.usecases.jobs import JobProgress, chunks, job_progress, plan_batches
from bot.usecases.people import ContactResolver, Resolution, contacts_in, is_uuid

# Above this many contacts a request counts as broad and asks to confirm.
BROAD_CONTACTS = 1000
# What one activity holds of each source key; more becomes a job of several (usecases/jobs.py).
MAX_BY_KEY = {
    "contact_ids": MAX_CONTACT_IDS,
    "list_ids": MAX_SOURCE_LIST_IDS,
    "tag_ids": MAX_SOURCE_TAG_IDS,
}
SOURCE_KEYS = {
    SourceKind.CONTACTS: "contact_ids",
    SourceKind.LISTS: "list_ids",
    SourceKind.TAGS: "tag_ids",
}
MAX_SOURCES = {kind: MAX_BY_KEY[key] for kind, key in SOURCE_KEYS.items()}

CAMPAIGN_SOURCES = tuple(kind for kind in SourceKind if kind.is_campaign)
TAGGING_SOURCES = (
    SourceKind.CONTACTS,
    SourceKind.LISTS,
    SourceKind.TAGS,
    SourceKind.ALL_ACTIVE,
    SourceKind.NEW_SUBSCRIBERS,
    SourceKind.SEGMENT,
    *CAMPAIGN_SOURCES,
)
LIST_ADD_SOURCES = (
    SourceKind.CONTACTS,
    SourceKind.LISTS,
    SourceKind.TAGS,
    SourceKind.ALL_ACTIVE,
    SourceKind.ENGAGEMENT,
    SourceKind.SEGMENT,
    *CAMPAIGN_SOURCES,
)
LIST_REMOVE_SOURCES = (
    SourceKind.CONTACTS,
    SourceKind.LISTS,
    SourceKind.TAGS,
    SourceKind.ALL_ACTIVE,
    SourceKind.ENGAGEMENT,
    *CAMPAIGN_SOURCES,
)
SOURCE_GAPS = {
    ("lists", "add", SourceKind.NEW_SUBSCRIBERS): (
        "Adding contacts to lists cannot take new subscribers as the source: Constant "
        "Contact's add_list_memberships has no new-subscriber source. Use --lists, --tags, "
        "--contacts, --all-active, --engagement or --segment"
    ),
    ("lists", "remove", SourceKind.SEGMENT): (
        "Removing contacts from lists cannot take a segment as the source: Constant Contact's "
        "remove_list_memberships has no segment source. Use --lists, --tags, --contacts, "
        "--all-active or --engagement"
    ),
    ("lists", "remove", SourceKind.NEW_SUBSCRIBERS): (
        "Removing contacts from lists cannot take new subscribers as the source: Constant "
        "Contact's remove_list_memberships has no new-subscriber source"
    ),
}


class Refused(Exception):
    """Nothing was started; `message` says why, `fields` which input it was about."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.audited = False


@dataclass(frozen=True)
class People:
    """What the emails of a request came to: taggable contacts, emails unknown, contacts
    skipped (email, why), and the calls resolving them cost."""

    found: int
    not_found: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    calls: int = 0


@dataclass(frozen=True)
class Plan:
    """A checked, resolved request, ready to start: one activity, or a job of several
    (`requests`, in the order they start; `request` is the first)."""

    kind: ActivityKind
    summary: str
    request: BaseModel
    contacts: int | None = None
    tag_counts: tuple[tuple[str, int | None], ...] = ()
    broad: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    requests: tuple[BaseModel, ...] = ()
    people: People | None = None
    calls_left: int | None = None  # of today's API budget, after planning

    @property
    def parts(self) -> tuple[BaseModel, ...]:
        return self.requests or (self.request,)

    @property
    def is_job(self) -> bool:
        return len(self.parts) > 1

    @property
    def needs_confirmation(self) -> bool:
        return self.broad or self.kind == ActivityKind.DELETE_TAGS


@dataclass(frozen=True)
class StatusReport:
    activity: Activity
    tracked: TrackedActivity | None


@dataclass(frozen=True)
class JobReport:
    job: Job
    progress: JobProgress


def tag_exists(name: str) -> str:
    return (
        f"A tag named “{name.strip()}” exists already (tag names are unique, whatever their case)"
    )


def quoted(names: Sequence[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def cc_message(exc: CCError) -> str:
    if isinstance(exc, BudgetSpent):
        return budget_spent_sentence(exc)
    if isinstance(exc, (RateLimited, QuotaExhausted)):
        return f"Constant Contact is busy right now ({exc.message}); try again shortly"
    return f"Constant Contact refused: {exc.message}"


def budget_spent_sentence(exc: BudgetSpent) -> str:
    """A person told, in words, that the day is spent and when it comes back."""
    if exc.whose == "share":
        what = (
            "This workspace has used its share of today's Constant Contact calls while other "
            "workspaces want calls too"
        )
    else:
        what = "Today's Constant Contact calls for this app are all spent"
    return (
        f"{what}; nothing was changed. The budget resets at "
        f"{exc.reset_at:%H:%M} UTC ({exc.reset_at:%A}); try again then."
    )


# ---------------------------------------------------------------- limits, without any call


def _engagement(values: list[str]) -> str | None:
    """The level as the API spells it (the person may type `HIGH`); refused in words if none."""
    return inputs.engagement_level(values[0]).value if values else None


def _source_body(source: Source) -> dict[str, Any]:
    """One activity's worth of the source (more is split into a job when planned)."""
    values = list(source.values)[: MAX_SOURCES.get(source.kind, len(source.values))]
    bodies: dict[SourceKind, Callable[[], dict[str, Any]]] = {
        SourceKind.CONTACTS: lambda: {"contact_ids": values},
        SourceKind.LISTS: lambda: {"list_ids": values},
        SourceKind.TAGS: lambda: {"tag_ids": values},
        SourceKind.ALL_ACTIVE: lambda: {"all_active_contacts": True},
        SourceKind.NEW_SUBSCRIBERS: lambda: {"new_subscriber": True},
        SourceKind.ENGAGEMENT: lambda: {"engagement_level": _engagement(values)},
        SourceKind.SEGMENT: lambda: {"segment_id": values[0] if values else None},
    }
    return bodies[source.kind]()


def _allowed_sources(inp: TaggingInput | ListsInput) -> tuple[SourceKind, ...]:
    if isinstance(inp, TaggingInput):
        return TAGGING_SOURCES
    return LIST_ADD_SOURCES if inp.action == "add" else LIST_REMOVE_SOURCES


def _source_gap(inp: TaggingInput | ListsInput) -> str | None:
    kind = inp.source.kind
    if isinstance(inp, ListsInput):
        gap = SOURCE_GAPS.get(("lists", inp.action, kind))
        if gap:
            return gap
    if kind not in _allowed_sources(inp):
        allowed = ", ".join(f"--{k.value}" for k in _allowed_sources(inp))
        return f"--{kind.value} is not a source for this; use one of {allowed}"
    if kind.takes_values and not inp.source.values:
        return f"--{kind.value} needs at least one value"
    return None


def _capture(problems: dict[str, str], key: str, check: Callable[[], object]) -> None:
    try:
        check()
    except LimitError as exc:
        problems[key] = str(exc)


def check_limits(inp: BulkInput) -> dict[str, str]:
    """Documented limits broken by the input, by field ("targets", "source", "exclude")."""
    problems: dict[str, str] = {}
    if isinstance(inp, DeleteInput):
        _capture(problems, "targets", lambda: build(TagDeleteRequest, {"tag_ids": inp.tag_names}))
        return problems
    targets = list(inp.tag_names if isinstance(inp, TaggingInput) else inp.list_names)
    targets = targets[: _max_targets(inp)]  # more targets make a job
    model, source_model = _models(inp)
    any_source = {"all_active_contacts": True}
    key = "tag_ids" if isinstance(inp, TaggingInput) else "list_ids"
    _capture(problems, "targets", lambda: build(model, {"source": any_source, key: targets}))
    gap = _source_gap(inp)
    looked_up = _looked_up(inp)
    if gap:
        problems["source"] = gap
    elif not looked_up:
        _capture(problems, "source", lambda: build(source_model, _source_body(inp.source)))
    if inp.exclude and not problems and not looked_up:
        body = {
            "source": _source_body(inp.source),
            "exclude": {"contact_ids": list(inp.exclude)},
            key: targets,
        }
        _capture(problems, "exclude", lambda: build(model, body))
    return problems


def _looked_up(inp: TaggingInput | ListsInput) -> bool:
    """Campaign and segment sources: their request body is known only after calls."""
    from bot.usecases.sources import looked_up  # sources.py builds on this module

    return looked_up(inp.source, tagging=isinstance(inp, TaggingInput))


def _max_targets(inp: TaggingInput | ListsInput) -> int:
    return MAX_TAGS_PER_TAGGING if isinstance(inp, TaggingInput) else MAX_TARGET_LIST_IDS


def _models(inp: TaggingInput | ListsInput) -> tuple[type[BaseModel], type[BaseModel]]:
    if isinstance(inp, TaggingInput):
        return TaggingRequest, TaggingSource
    source = ListAddSource if inp.action == "add" else ListRemoveSource
    return ListMembershipRequest, source


def _refuse_limits(inp: BulkInput) -> None:
    problems = check_limits(inp)
    if problems:
        raise Refused("; ".join(problems.values()), problems)


# ---------------------------------------------------------------- the use cases

_T = TypeVar("_T")


class Operations:
    def __init__(self, store: Store, catalog: Catalog, *, clock: Clock = SYSTEM_CLOCK) -> None:
        from bot.usecases.sources import Sources  # sources.py builds on this module

        self.store = store
        self.catalog = catalog
        self.resolver = ContactResolver(store, store.clock)
        self.sources = Sources(clock)

    # ------------------------------------------------------------ audit
    def audit(self, actor: Actor, action: str, detail: str, outcome: str) -> None:
        self.store.audit(
            workspace_id=actor.workspace_id,
            user_id=actor.user_id,
            action=action,
            detail=detail[:2000],
            outcome=outcome[:2000],
        )

    def _refusing(self, actor: Actor, action: str, detail: str, work: Callable[[], _T]) -> _T:
        """Run `work`; any refusal is audited and raised as Refused, never half-done."""
        try:
            return work()
        except Refused as exc:
            refused = exc
        except LimitError as exc:
            refused = Refused(str(exc))
        except CCError as exc:
            refused = Refused(cc_message(exc))
        self.audit(actor, action, detail, f"refused: {refused.message}")
        refused.audited = True
        raise refused

    # ------------------------------------------------------------ single calls
    def create_tag(
        self, actor: Actor, client: AccountClient, name: str, tag_source: str | None = None
    ) -> Tag:
        def work() -> Tag:
            try:
                tag = client.create_tag(name, tag_source)
            except Conflict:
                raise Refused(tag_exists(name)) from None
            self.catalog.forget_tags(actor.workspace_id)
            return tag

        tag = self._refusing(actor, "create_tag", name, work)
        self.audit(actor, "create_tag", name, f"created {tag.tag_id}")
        return tag

    def rename_tag(self, actor: Actor, client: AccountClient, old_name: str, new_name: str) -> Tag:
        detail = f"{old_name} → {new_name}"

        def work() -> Tag:
            checked = validate_tag_name(new_name)  # before any call: a bad name costs nothing
            tag = self._tag_named(actor, client, old_name)
            try:
                renamed = client.rename_tag(tag.tag_id, checked)
            except Conflict:
                raise Refused(tag_exists(new_name)) from None
            self.catalog.forget_tags(actor.workspace_id)
            return renamed

        tag = self._refusing(actor, "rename_tag", detail, work)
        self.audit(actor, "rename_tag", detail, f"renamed {tag.tag_id}")
        return tag

    def _tag_named(self, actor: Actor, client: AccountClient, name: str) -> Tag:
        """From the cached catalog, looked up once more before saying it is unknown."""
        wanted = name.strip().casefold()
        for fresh in (False, True):
            tags = self.catalog.tags(actor.workspace_id, client, fresh=fresh)
            found = next((tag for tag in tags if tag.name.casefold() == wanted), None)
            if found is not None:
                return found
        raise Refused(_unknown("tag", [name.strip()]))

    def tag_counts(self, actor: Actor, client: AccountClient) -> list[Tag]:
        tags = self._refusing(actor, "tags", "", lambda: client.list_tags(include_count=True))
        self.audit(actor, "tags", "", f"listed {len(tags)}")
        return sorted(tags, key=lambda tag: tag.name.casefold())

    def status(self, actor: Actor, client: AccountClient, wanted: str) -> StatusReport | JobReport:
        """An activity or a job, by its id (a UUID: anything else is refused before any call)."""
        ident = wanted.strip().lower()

        def check() -> None:
            if not ident:
                raise Refused("Say which activity or job: /cctag status <id>")
            if not is_uuid(ident):
                raise Refused(
                    f"“{wanted.strip()[:60]}” is not an activity or job id (ids look like "
                    "8-4-4-4-12 hexadecimal digits)"
                )

        self._refusing(actor, "status", wanted, check)
        job = JobStore(self.store).get(ident)
        if job is not None and job.workspace_id == actor.workspace_id:
            progress = job_progress(job.id, job.parts, given_up=job.state != RUNNING)
            self.audit(actor, "status", ident, f"job {job.state}")
            return JobReport(job, progress)

        def work() -> Activity:
            try:
                return client.get_activity(ident)
            except NotFound:
                raise Refused(f"No activity or job `{ident}` in this account") from None

        activity = self._refusing(actor, "status", wanted, work)
        self.audit(actor, "status", wanted, activity.state)
        tracked = self.store.get_tracked(actor.workspace_id, activity.activity_id)
        return StatusReport(activity, tracked)

    # ------------------------------------------------------------ plans
    def named(self, actor: Actor, client: AccountClient, inp: BulkInput) -> BulkInput:
        """Ids picked from a menu replaced by names (an id no longer known stays, and is then
        reported unknown)."""
        tags = {t.tag_id: t.name for t in self.catalog.tags(actor.workspace_id, client)}
        if isinstance(inp, DeleteInput):
            return DeleteInput(tuple(tags.get(i, i) for i in inp.tag_names))
        lists: dict[str, str] = {}
        if isinstance(inp, ListsInput) or inp.source.kind == SourceKind.LISTS:
            lists = {x.list_id: x.name for x in self.catalog.lists(actor.workspace_id, client)}
        source = inp.source
        if source.kind in (SourceKind.TAGS, SourceKind.LISTS):
            names = tags if source.kind == SourceKind.TAGS else lists
            source = Source(source.kind, tuple(names.get(i, i) for i in source.values))
        if source.kind.is_campaign:
            source = Source(source.kind, self.sources.menus.picked(source.values))
        if isinstance(inp, ListsInput):
            targets = tuple(lists.get(i, i) for i in inp.list_names)
            return ListsInput(inp.action, targets, source, inp.exclude)
        targets = tuple(tags.get(i, i) for i in inp.tag_names)
        return TaggingInput(inp.action, targets, source, inp.exclude)

    def plan(
        self,
        actor: Actor,
        client: AccountClient,
        inp: BulkInput,
        *,
        notify: Callable[[str], None] | None = None,
    ) -> Plan:
        """Check limits, resolve every name (all unknown ones listed), count what it touches.
        `notify` tells the person about a wait (a segment still being computed)."""
        action = action_name(inp)
        detail = summarize(inp)
        return self._refusing(actor, action, detail, lambda: self._plan(actor, client, inp, notify))

    def _plan(
        self,
        actor: Actor,
        client: AccountClient,
        inp: BulkInput,
        notify: Callable[[str], None] | None = None,
    ) -> Plan:
        _refuse_limits(inp)
        if isinstance(inp, DeleteInput):
            return self._plan_delete(client, inp)
        resolver = _Resolver(self.catalog, actor.workspace_id, client, self.resolver)
        if isinstance(inp, TaggingInput):
            targets = resolver.tags(inp.tag_names)
        else:
            targets = resolver.lists(inp.list_names)
        looked_up = _looked_up(inp)
        source = {} if looked_up else resolver.source(inp.source)
        exclude = resolver.excluded(inp.exclude)
        resolver.raise_unknown()  # before any report is read: a misspelt name costs no more
        notes: tuple[str, ...] = ()
        people = resolver.people
        if looked_up:
            found = self.sources.plan_source(
                actor.workspace_id,
                client,
                inp.source,
                exclude,
                tagging=isinstance(inp, TaggingInput),
                notify=notify,
            )
            source, exclude, notes, people = found.body, found.exclude, found.notes, found.people
        requests = _split(inp, source, targets, exclude)
        contacts = _count(client, inp.source.kind, source, len(exclude))
        broad = inp.source.kind == SourceKind.ALL_ACTIVE or (contacts or 0) > BROAD_CONTACTS
        return Plan(
            activity_kind(inp),
            summarize(inp),
            requests[0],
            contacts,
            broad=broad,
            notes=notes,
            requests=tuple(requests),
            people=people,
            calls_left=calls_left_today(client),
        )

    def _plan_delete(self, client: AccountClient, inp: DeleteInput) -> Plan:
        tags = client.list_tags(include_count=True)
        by_name = {tag.name.casefold(): tag for tag in tags}
        unknown = [name for name in inp.tag_names if name.strip().casefold() not in by_name]
        if unknown:
            raise Refused(_unknown("tag", unknown))
        chosen = _unique([by_name[name.strip().casefold()] for name in inp.tag_names])
        request = build(TagDeleteRequest, {"tag_ids": [tag.tag_id for tag in chosen]})
        counts = tuple((tag.name, tag.contacts_count) for tag in chosen)
        return Plan(
            ActivityKind.DELETE_TAGS,
            f"delete tags {quoted([tag.name for tag in chosen])}",
            request,
            contacts=sum(count or 0 for _, count in counts),
            tag_counts=counts,
            broad=True,
        )

    # ------------------------------------------------------------ start
    def start(self, actor: Actor, client: AccountClient, plan: Plan) -> Activity:
        activity = self._refusing(
            actor, plan.kind.value, plan.summary, lambda: _start(client, plan)
        )
        if plan.kind == ActivityKind.DELETE_TAGS:
            self.catalog.forget_tags(actor.workspace_id)
        self.audit(actor, plan.kind.value, plan.summary, f"started {activity.activity_id}")
        return activity


def _start(client: AccountClient, plan: Plan) -> Activity:
    request = plan.request
    if isinstance(request, TaggingRequest):
        starter = client.add_tags if plan.kind == ActivityKind.ADD_TAGS else client.remove_tags
        return starter(request)
    if isinstance(request, ListMembershipRequest):
        if plan.kind == ActivityKind.ADD_TO_LISTS:
            return client.add_to_lists(request)
        return client.remove_from_lists(request)
    if isinstance(request, TagDeleteRequest):
        return client.delete_tags(request.tag_ids)
    raise TypeError(f"cannot start {type(request).__name__}")


def _split(
    inp: TaggingInput | ListsInput,
    source: dict[str, Any],
    targets: list[str],
    exclude: list[str],
) -> list[BaseModel]:
    """The request as activities: one when it fits, else a job (bot/usecases/jobs.py)."""
    max_targets = _max_targets(inp)
    key = "tag_ids" if isinstance(inp, TaggingInput) else "list_ids"
    [source_key] = source
    if source_key in MAX_BY_KEY:  # ids: split in runs (any source resolved to contact ids)
        batches = plan_batches(
            source[source_key],
            targets,
            max_sources=MAX_BY_KEY[source_key],
            max_targets=max_targets,
        )
        bodies = [
            {"source": {source_key: list(b.source_ids)}, key: list(b.target_ids)} for b in batches
        ]
    else:
        bodies = [{"source": source, key: list(run)} for run in chunks(targets, max_targets)]
    if exclude:
        for body in bodies:
            body["exclude"] = {"contact_ids": exclude}
    model, _ = _models(inp)
    return [build(model, body) for body in bodies]


def calls_left_today(client: AccountClient) -> int | None:
    """What is left of the API key's calls today, when its limiter can say (read-only)."""
    limiter = getattr(getattr(client, "_api", None), "limiter", None)
    left = getattr(limiter, "calls_left_today", None)
    return left if isinstance(left, int) else None


# ---------------------------------------------------------------- names → ids


def _unknown(what: str, names: Sequence[str]) -> str:
    word = what if len(names) == 1 else what + "s"
    return f"Unknown {word}: {quoted(names)}"


def _unique(items: list[_T]) -> list[_T]:
    seen: list[_T] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


class _Resolver:
    """Resolves names through the catalog and emails through the contact index; collects
    every unknown name before refusing."""

    def __init__(
        self, catalog: Catalog, workspace_id: str, client: AccountClient, people: ContactResolver
    ) -> None:
        self._catalog = catalog
        self._workspace = workspace_id
        self._client = client
        self._people = people
        self._unknown: list[str] = []
        self.people: People | None = None

    def tags(self, names: Sequence[str]) -> list[str]:
        return self._by_name(names, "tag", self._tag_ids)

    def lists(self, names: Sequence[str]) -> list[str]:
        return self._by_name(names, "list", self._list_ids)

    def _tag_ids(self, fresh: bool) -> dict[str, str]:
        tags = self._catalog.tags(self._workspace, self._client, fresh=fresh)
        return {tag.name.casefold(): tag.tag_id for tag in tags}

    def _list_ids(self, fresh: bool) -> dict[str, str]:
        lists = self._catalog.lists(self._workspace, self._client, fresh=fresh)
        return {found.name.casefold(): found.list_id for found in lists}

    def _by_name(
        self, names: Sequence[str], what: str, load: Callable[[bool], dict[str, str]]
    ) -> list[str]:
        ids = load(False)
        if any(name.strip().casefold() not in ids for name in names):
            ids = load(True)  # created a moment ago? look once more
        missing = [name for name in names if name.strip().casefold() not in ids]
        if missing:
            self._unknown.append(_unknown(what, missing))
        return _unique([ids[n.strip().casefold()] for n in names if n.strip().casefold() in ids])

    def _resolve(self, values: Sequence[str]) -> tuple[list[str], Resolution]:
        """Contact ids as named, and the emails resolved through the contact index."""
        named = contacts_in(", ".join(values))
        resolution = self._people.resolve(
            self._client, named.emails, account_key=self._client.account_key
        )
        return list(named.contact_ids), resolution

    def contacts(self, values: Sequence[str]) -> list[str]:
        """The taggable contacts: ids as given, emails found; unknown and skipped ones are
        told in the preview, and refused only when nothing is left."""
        ids, resolution = self._resolve(values)
        found = _unique([*ids, *resolution.contact_ids])
        skipped = tuple((s.email, s.reason) for s in resolution.skipped)
        self.people = People(len(found), tuple(resolution.not_found), skipped, resolution.calls)
        if not found:
            self._unknown.append(_nobody(resolution))
        return found

    def excluded(self, values: Sequence[str]) -> list[str]:
        """Excluded contacts (skipped ones too: they are contacts); an unknown email is refused."""
        if not values:
            return []
        ids, resolution = self._resolve(values)
        if resolution.not_found:
            word = "email" if len(resolution.not_found) == 1 else "emails"
            shown = shorten_names(resolution.not_found, 600)
            self._unknown.append(f"No excluded contact with the {word} {shown}")
        skipped = [s.contact_id for s in resolution.skipped]
        return _unique([*ids, *resolution.contact_ids, *skipped])

    def source(self, source: Source) -> dict[str, Any]:
        if source.kind in CONTACT_SOURCES:
            return {"contact_ids": CONTACT_SOURCES[source.kind](self, source.values)}
        if source.kind == SourceKind.LISTS:
            return {"list_ids": self.lists(source.values)}
        if source.kind == SourceKind.TAGS:
            return {"tag_ids": self.tags(source.values)}
        return _source_body(source)

    def raise_unknown(self) -> None:
        if self._unknown:
            raise Refused("; ".join(self._unknown))


# Sources resolved here to contact ids, then split into activities like any list of contacts
# (`_split`): the one place a new source of people plugs in (a campaign's clickers, a
# segment's members). Each takes the resolver (its client, its `people` for the preview) and
# the source's values, and answers the contact ids to act on.
ContactSource = Callable[[_Resolver, Sequence[str]], list[str]]
CONTACT_SOURCES: dict[SourceKind, ContactSource] = {
    SourceKind.CONTACTS: _Resolver.contacts,
}


def _nobody(resolution: Resolution) -> str:
    """No contact to act on: say what the emails were."""
    parts = []
    if resolution.not_found:
        word = "email" if len(resolution.not_found) == 1 else "emails"
        shown = shorten_names(resolution.not_found, 600)
        parts.append(f"No contact with the {word} {shown}")
    if resolution.skipped:
        shown = shorten_names([f"{s.email} ({s.reason})" for s in resolution.skipped], 600)
        parts.append(f"skipped as unsubscribed or deleted: {shown}")
    return "; ".join(parts) or "Name at least one contact: an email or a contact id"


def _count(
    client: AccountClient, kind: SourceKind, source: dict[str, Any], excluded: int
) -> int | None:
    """How many contacts the source holds (one call), or None when the API cannot say."""
    if "contact_ids" in source:  # named, or found in a campaign's reports or a segment
        return len(source["contact_ids"])
    if kind == SourceKind.LISTS and len(source["list_ids"]) <= MAX_LISTS_PER_CONTACT_QUERY:
        total = client.count_contacts(list_ids=source["list_ids"])
    elif kind == SourceKind.TAGS and len(source["tag_ids"]) <= MAX_TAGS_PER_CONTACT_QUERY:
        total = client.count_contacts(tag_ids=source["tag_ids"])
    elif kind == SourceKind.ALL_ACTIVE:
        total = client.count_contacts(status="active")
    else:
        return None
    return max(total - excluded, 0)


# ---------------------------------------------------------------- words


def action_name(inp: BulkInput) -> str:
    return activity_kind(inp).value


def activity_kind(inp: BulkInput) -> ActivityKind:
    if isinstance(inp, DeleteInput):
        return ActivityKind.DELETE_TAGS
    if isinstance(inp, TaggingInput):
        return ActivityKind.ADD_TAGS if inp.action == "add" else ActivityKind.REMOVE_TAGS
    return ActivityKind.ADD_TO_LISTS if inp.action == "add" else ActivityKind.REMOVE_FROM_LISTS


def describe_source(source: Source) -> str:
    values = list(source.values)
    words = {
        SourceKind.CONTACTS: lambda: (
            f"the contacts {quoted(values)}"
            if len(values) <= 3
            else plural(len(values), "named contact")
        ),
        SourceKind.LISTS: lambda: (
            f"contacts on {'list' if len(values) == 1 else 'lists'} " + quoted(values)
        ),
        SourceKind.TAGS: lambda: f"contacts tagged {quoted(values)}",
        SourceKind.ALL_ACTIVE: lambda: "all active contacts",
        SourceKind.NEW_SUBSCRIBERS: lambda: "new subscribers",
        SourceKind.ENGAGEMENT: lambda: f"contacts with {values[0] if values else '?'} engagement",
        SourceKind.SEGMENT: lambda: f"contacts in segment {values[0] if values else '?'}",
        **{kind: lambda: _campaign_words(source) for kind in CAMPAIGN_SOURCES},
    }
    return words[source.kind]()


def _campaign_words(source: Source) -> str:
    campaign = f"“{source.values[0]}”" if source.values else "?"
    verbs = {
        SourceKind.CLICKED: f"clicked {source.link}" if source.link else "clicked a link",
        SourceKind.OPENED: "opened",
        SourceKind.NOT_OPENED: "did not open",
        SourceKind.BOUNCED: "bounced",
    }
    return f"contacts who {verbs[source.kind]} in {campaign}"


def summarize(inp: BulkInput) -> str:
    if isinstance(inp, DeleteInput):
        return f"delete tags {quoted(inp.tag_names)}"
    source = describe_source(inp.source)
    if inp.exclude:
        source += f", except {plural(len(inp.exclude), 'contact')}"
    if isinstance(inp, TaggingInput):
        tags = ("tag " if len(inp.tag_names) == 1 else "tags ") + quoted(inp.tag_names)
        if inp.action == "add":
            return f"add {tags} to {source}"
        return f"remove {tags} from {source}"
    lists = ("list " if len(inp.list_names) == 1 else "lists ") + quoted(inp.list_names)
    if inp.action == "add":
        return f"add {source} to {lists}"
    return f"remove {source} from {lists}"
