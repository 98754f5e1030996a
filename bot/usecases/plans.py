"""From a request in plain words to a checked, counted plan, and from a plan to a started activity.

Everything is resolved and validated before anything starts: names, emails and the documented
limits (through bot.cc.models). Nothing is half-done: a plan either starts one activity, or is
refused with every problem found, each under the input it is about.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from bot.cc.client import AccountClient
from bot.cc.errors import CCError
from bot.cc.models import (
    Activity,
    ActivityKind,
    ContactIdsExclude,
    LimitError,
    ListAddSource,
    ListMembershipRequest,
    ListRemoveSource,
    TagDeleteRequest,
    TaggingRequest,
    TaggingSource,
    build,
)
from bot.store import NewActivity, Store, TrackedActivity
from bot.usecases.errors import EXCLUDE, SOURCE, TARGETS, Refused, explain, unknown
from bot.usecases.inputs import Action, Actor, BulkRequest, Source, SourceKind, sources_for
from bot.usecases.names import NameCache

# A plan touching this many contacts or more asks to confirm, whatever its source.
BROAD_CONTACTS = 1_000
MAX_LISTS_COUNTED = 25  # GET /contacts filters by at most 25 lists
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
MAX_NAMES_IN_SUMMARY = 5

ActivityBody = TaggingRequest | ListMembershipRequest | TagDeleteRequest

_KIND = {
    Action.ADD_TAGS: ActivityKind.ADD_TAGS,
    Action.REMOVE_TAGS: ActivityKind.REMOVE_TAGS,
    Action.DELETE_TAGS: ActivityKind.DELETE_TAGS,
    Action.ADD_TO_LISTS: ActivityKind.ADD_TO_LISTS,
    Action.REMOVE_FROM_LISTS: ActivityKind.REMOVE_FROM_LISTS,
}

_VERB = {
    Action.ADD_TAGS: ("Add", "tag", "to"),
    Action.REMOVE_TAGS: ("Remove", "tag", "from"),
    Action.ADD_TO_LISTS: ("Add", "list", "to"),
    Action.REMOVE_FROM_LISTS: ("Remove", "list", "from"),
}


@dataclass(frozen=True)
class Plan:
    """A checked request: what it does, how many contacts it touches, whether to confirm."""

    action: Action
    summary: str
    contacts: int | None  # None: Constant Contact cannot count this source beforehand
    details: tuple[str, ...]
    needs_confirmation: bool
    body: ActivityBody

    @property
    def kind(self) -> ActivityKind:
        return _KIND[self.action]

    @property
    def reach(self) -> str:
        if self.contacts is None:
            return "a number of contacts Constant Contact only knows once it runs"
        return f"{self.contacts} contact" + ("" if self.contacts == 1 else "s")

    def run(self, client: AccountClient) -> Activity:
        body = self.body
        if isinstance(body, TagDeleteRequest):
            return client.delete_tags(body.tag_ids)
        if isinstance(body, TaggingRequest):
            adding = self.action is Action.ADD_TAGS
            return client.add_tags(body) if adding else client.remove_tags(body)
        adding = self.action is Action.ADD_TO_LISTS
        return client.add_to_lists(body) if adding else client.remove_from_lists(body)


def quoted(names: Sequence[str]) -> str:
    shown = ", ".join(f"“{name}”" for name in names[:MAX_NAMES_IN_SUMMARY])
    more = len(names) - MAX_NAMES_IN_SUMMARY
    return shown + (f" and {more} more" if more > 0 else "")


def _plural(word: str, count: int) -> str:
    return word if count == 1 else word + "s"


def describe_source(source: Source, names: Sequence[str] | None = None) -> str:
    shown = list(names) if names is not None else list(source.values)
    count = len(shown)
    match source.kind:
        case SourceKind.CONTACTS:
            return f"{count} {_plural('contact', count)} ({quoted(shown)})"
        case SourceKind.LISTS:
            return f"the contacts on {_plural('list', count)} {quoted(shown)}"
        case SourceKind.TAGS:
            return f"the contacts tagged {quoted(shown)}"
        case SourceKind.ALL_ACTIVE:
            return "all active contacts"
        case SourceKind.NEW_SUBSCRIBERS:
            return "new subscribers"
        case SourceKind.ENGAGEMENT:
            return f"the contacts of {shown[0] if shown else '?'} engagement"
        case SourceKind.SEGMENT:
            return f"the contacts of segment {shown[0] if shown else '?'}"


@contextmanager
def translated_errors() -> Iterator[None]:
    """Constant Contact's errors and broken limits as a Refused the user can act on."""
    try:
        yield
    except LimitError as exc:
        raise Refused({TARGETS: str(exc)}) from None
    except CCError as exc:
        raise Refused(explain(exc)) from None


class _Problems:
    """Collects every problem before refusing, so the user fixes them all at once."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def check(self, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except Refused as refused:
            for field, message in refused.problems.items():
                self.found[field] = "\n".join(filter(None, [self.found.get(field), message]))
            return None

    def raise_any(self) -> None:
        if self.found:
            raise Refused(self.found)


def _limit(field: str, step: Callable[[], Any]) -> Any:
    try:
        return step()
    except LimitError as exc:
        raise Refused({field: str(exc)}) from None


class Planner:
    """Plans requests for one workspace's Constant Contact account."""

    def __init__(self, client: AccountClient, names: NameCache, workspace_id: str) -> None:
        self.client = client
        self.names = names
        self.workspace_id = workspace_id

    # ------------------------------------------------------------------ bulk requests
    def bulk(self, request: BulkRequest) -> Plan:
        with translated_errors():
            precheck(request)
            problems = _Problems()
            target_ids, target_names = problems.check(lambda: self._targets(request)) or ([], [])
            source_fields = problems.check(lambda: self._source(request.source)) or {}
            exclude_ids = problems.check(lambda: self._exclude(request.exclude_emails)) or []
            problems.raise_any()
            body = _build(request, target_ids, source_fields, exclude_ids)
            contacts = self._count(request.source, source_fields, len(exclude_ids))
        summary = _summary(request, target_names)
        broad = request.source.kind is SourceKind.ALL_ACTIVE
        large = contacts is not None and contacts >= BROAD_CONTACTS
        return Plan(request.action, summary, contacts, (), broad or large, body)

    def _targets(self, request: BulkRequest) -> tuple[list[str], list[str]]:
        if not request.targets:
            what = "list" if request.action.targets_lists else "tag"
            raise Refused({TARGETS: f"Name at least one {what}"})
        if request.action.targets_lists:
            lists = self.names.resolve_lists(
                self.client, self.workspace_id, request.targets, TARGETS
            )
            return [x.list_id for x in lists], [x.name for x in lists]
        tags = self.names.resolve_tags(self.client, self.workspace_id, request.targets, TARGETS)
        return [t.tag_id for t in tags], [t.name for t in tags]

    def _source(self, source: Source) -> dict[str, Any]:
        values = list(source.values)
        if source.kind is SourceKind.LISTS:
            lists = self.names.resolve_lists(self.client, self.workspace_id, values, SOURCE)
            values = [x.list_id for x in lists]
        elif source.kind is SourceKind.TAGS:
            tags = self.names.resolve_tags(self.client, self.workspace_id, values, SOURCE)
            values = [t.tag_id for t in tags]
        elif source.kind is SourceKind.CONTACTS:
            values = self._contact_ids(values, SOURCE)
        return _source_fields(source, values)

    def _exclude(self, emails: Sequence[str]) -> list[str]:
        return self._contact_ids(list(emails), EXCLUDE)

    def _contact_ids(self, values: list[str], field: str) -> list[str]:
        """Emails become contact ids (one look-up each); anything else is taken as an id."""
        ids, missing = [], []
        for value in dict.fromkeys(values):
            if "@" not in value:
                ids.append(value)
                continue
            contact = self.client.find_contact_by_email(value)
            if contact is None:
                missing.append(value)
            else:
                ids.append(contact.contact_id)
        if missing:
            raise Refused({field: unknown("contacts", missing)})
        return list(dict.fromkeys(ids))

    def _count(self, source: Source, fields: dict[str, Any], excluded: int) -> int | None:
        """How many contacts the source holds: one call at most, or None when it cannot tell."""
        if source.kind is SourceKind.CONTACTS:
            return len(fields["contact_ids"])
        if source.kind is SourceKind.LISTS and len(fields["list_ids"]) <= MAX_LISTS_COUNTED:
            total = self.client.count_contacts(list_ids=fields["list_ids"])
        elif source.kind is SourceKind.TAGS:
            total = self.client.count_contacts(tag_ids=fields["tag_ids"])
        elif source.kind is SourceKind.ALL_ACTIVE:
            total = self.client.count_contacts(status="active")
        else:
            return None
        return max(total - excluded, 0)

    # ------------------------------------------------------------------ deleting tags
    def delete(self, tag_names: Sequence[str]) -> Plan:
        with translated_errors():
            precheck_delete(tag_names)
            # Fresh counts: the confirmation must show who loses the tag now.
            self.names.tags(self.client, self.workspace_id, refresh=True)
            tags = self.names.resolve_tags(self.client, self.workspace_id, tag_names, TARGETS)
            body = build(TagDeleteRequest, {"tag_ids": [t.tag_id for t in tags]})
        counts = [t.contacts_count or 0 for t in tags]
        details = tuple(
            f"“{t.name}”: {n} {_plural('contact', n)}" for t, n in zip(tags, counts, strict=True)
        )
        names = [t.name for t in tags]
        summary = f"Delete {_plural('tag', len(tags))} {quoted(names)}"
        return Plan(Action.DELETE_TAGS, summary, sum(counts), details, True, body)


def precheck(request: BulkRequest) -> None:
    """The documented limits, on the raw inputs, before spending any API call on them."""
    if request.source.kind not in sources_for(request.action):
        allowed = ", ".join(kind.value for kind in sources_for(request.action))
        raise Refused({SOURCE: f"This action takes contacts from one of: {allowed}"})
    if request.source.kind.takes_values and not request.source.values:
        raise Refused({SOURCE: f"Name the {request.source.kind.value} to take contacts from"})
    for email in (*_emails(request.source), *request.exclude_emails):
        if not EMAIL.match(email):
            field = EXCLUDE if email in request.exclude_emails else SOURCE
            raise Refused({field: f"“{email}” is not an email address"})
    placeholders = _source_fields(request.source, list(request.source.values))
    _limit(EXCLUDE, lambda: build(ContactIdsExclude, {"contact_ids": request.exclude_emails}))
    _build(request, list(request.targets), placeholders, list(request.exclude_emails))


def _build(
    request: BulkRequest, targets: list[str], source: dict[str, Any], exclude: list[str]
) -> TaggingRequest | ListMembershipRequest:
    _limit(SOURCE, lambda: build(_source_model(request.action), source))
    data: dict[str, Any] = {"source": source}
    if exclude:
        data["exclude"] = {"contact_ids": exclude}
    try:
        if request.action.targets_lists:
            return build(ListMembershipRequest, data | {"list_ids": targets})
        return build(TaggingRequest, data | {"tag_ids": targets})
    except LimitError as exc:
        raise Refused({EXCLUDE if "xclud" in str(exc) else TARGETS: str(exc)}) from None


def _emails(source: Source) -> list[str]:
    if source.kind is not SourceKind.CONTACTS:
        return []
    return [value for value in source.values if "@" in value]


def _source_fields(source: Source, values: list[str]) -> dict[str, Any]:
    match source.kind:
        case SourceKind.CONTACTS:
            return {"contact_ids": values}
        case SourceKind.LISTS:
            return {"list_ids": values}
        case SourceKind.TAGS:
            return {"tag_ids": values}
        case SourceKind.ALL_ACTIVE:
            return {"all_active_contacts": True}
        case SourceKind.NEW_SUBSCRIBERS:
            return {"new_subscriber": True}
        case SourceKind.ENGAGEMENT:
            return {"engagement_level": values[0].lower() if len(values) == 1 else values}
        case SourceKind.SEGMENT:
            return {"segment_id": values[0] if len(values) == 1 else values}


def _source_model(action: Action) -> type[TaggingSource | ListAddSource | ListRemoveSource]:
    if action is Action.ADD_TO_LISTS:
        return ListAddSource
    if action is Action.REMOVE_FROM_LISTS:
        return ListRemoveSource
    return TaggingSource


def _summary(request: BulkRequest, target_names: Sequence[str]) -> str:
    verb, noun, preposition = _VERB[request.action]
    source = describe_source(request.source)
    excluded = len(request.exclude_emails)
    tail = f", except {excluded} {_plural('contact', excluded)}" if excluded else ""
    if request.action.targets_lists:
        direction = "to" if request.action is Action.ADD_TO_LISTS else "from"
        return (
            f"{verb} {source} {direction} {_plural(noun, len(target_names))} "
            f"{quoted(target_names)}{tail}"
        )
    targets = f"{_plural(noun, len(target_names))} {quoted(target_names)}"
    return f"{verb} {targets} {preposition} {source}{tail}"


# ---------------------------------------------------------------------- starting


class Announcer(Protocol):
    """Where the parent message of an activity lives (a Slack channel, in practice)."""

    def starting(self, actor: Actor, plan: Plan) -> str:
        """Post the parent message; answer its ts. Raise Refused when it cannot be posted."""
        ...

    def started(self, ts: str, actor: Actor, plan: Plan, activity: Activity) -> None: ...

    def failed(self, ts: str, actor: Actor, plan: Plan, reason: str) -> None: ...


@dataclass(frozen=True)
class Started:
    activity: Activity
    tracked: TrackedActivity


def start(
    plan: Plan,
    client: AccountClient,
    store: Store,
    actor: Actor,
    announcer: Announcer,
    key: str,
) -> Started | None:
    """Start the plan's activity once per `key`: None when `key` started (or tried) it already.

    The parent message comes first, so the poller has a thread to report into; it is updated
    when the activity cannot start.
    """
    if not store.claim_once(key):
        record(store, actor, plan.action, plan.summary, "ignored: already submitted")
        return None
    try:
        ts = announcer.starting(actor, plan)
    except Refused as refused:
        record(store, actor, plan.action, plan.summary, f"refused: {refused.message}")
        refused.audited = True
        raise
    try:
        activity = plan.run(client)
    except (CCError, LimitError) as exc:
        reason = explain(exc) if isinstance(exc, CCError) else str(exc)
        announcer.failed(ts, actor, plan, reason)
        record(store, actor, plan.action, plan.summary, f"failed to start: {reason}")
        failed = Refused(reason)
        failed.audited = True
        raise failed from None
    except Exception:
        # Unknown whether Constant Contact took it: say so rather than leave "starting".
        reason = "an unexpected error; check `/cctag status` or Constant Contact before retrying"
        announcer.failed(ts, actor, plan, reason)
        record(store, actor, plan.action, plan.summary, "failed to start: unexpected error")
        raise
    tracked = store.track_activity(
        NewActivity(
            workspace_id=actor.workspace_id,
            channel_id=actor.channel_id,
            parent_ts=ts,
            requester_id=actor.user_id,
            kind=plan.kind.value,
            summary=plan.summary,
            activity_id=activity.activity_id,
            state=activity.state,
            percent_done=activity.percent_done,
        )
    )
    announcer.started(ts, actor, plan, activity)
    record(store, actor, plan.action, plan.summary, f"started {activity.activity_id}")
    return Started(activity, tracked)


def record(store: Store, actor: Actor, action: str, detail: str, outcome: str) -> None:
    """One audit entry per action and refusal."""
    store.audit(
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        action=str(action),
        detail=detail[:2000],
        outcome=outcome[:2000],
    )


def precheck_delete(tag_names: Sequence[str]) -> None:
    """The documented limit on how many tags one request deletes, before any API call."""
    if not tag_names:
        raise Refused({TARGETS: "Name at least one tag to delete"})
    _limit(TARGETS, lambda: build(TagDeleteRequest, {"tag_ids": list(tag_names)}))
