"""The V3 endpoints: pure functions of (state, account, request parts) → (status, JSON body).

The HTTP plumbing (auth, rate limits, faults, content types) lives in app.py; each handler
here runs under the state's lock and raises SandboxError for any non-success answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from bot.cc.models import (
    ActivityKind,
    ActivityState,
    EngagementLevel,
    LimitError,
    ListAddSource,
    ListMembershipRequest,
    ListRemoveSource,
    TagCreate,
    TagDeleteRequest,
    TaggingRequest,
    TaggingSource,
    TagRename,
    build,
)
from bot.devkit.sandbox.paging import page_of, parse_bool, parse_int, read_page
from bot.devkit.sandbox.state import (
    Account,
    ActivityRecord,
    ContactRecord,
    ListRecord,
    SandboxError,
    SandboxState,
    TagRecord,
    check_tag_room,
    iso,
)

MAX_FILTER_TAGS = 50
MAX_FILTER_LISTS = 25
MAX_LISTS_PAGE = 1000
MAX_SEGMENTS_PAGE = 1000
# GET /contacts?segment_id= "can only be combined with the limit query parameter".
SEGMENT_COMPANIONS = frozenset({"segment_id", "limit", "cursor"})
DATE_FILTERS = {
    "created_after": ("created_at", 1),
    "created_before": ("created_at", -1),
    "updated_after": ("updated_at", 1),
    "updated_before": ("updated_at", -1),
}
CONTACT_INCLUDES = (
    "custom_fields",
    "list_memberships",
    "phone_numbers",
    "street_addresses",
    "notes",
    "taggings",
    "sms_channel",
)
STATE_FILTERS = ("processing", "completed", "cancelled", "failed", "timed_out")


@dataclass
class Call:
    """One authenticated API request, as the handlers see it."""

    state: SandboxState
    account: Account
    path: str
    query: Mapping[str, str]
    path_params: Mapping[str, str]
    body: Any = None
    scopes: frozenset[str] = frozenset()


Answer = tuple[int, Any]
Handler = Callable[[Call], Answer]
M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], data: Any) -> M:
    try:
        return build(model, data)
    except LimitError as exc:
        raise SandboxError(400, str(exc)) from None


# ---------------------------------------------------------------- JSON shapes


def tag_json(account: Account, tag: TagRecord, include_count: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"tag_id": tag.tag_id, "name": tag.name}
    if tag.tag_source is not None:
        body["tag_source"] = tag.tag_source
    if include_count:
        body["contacts_count"] = len(account.tag_members.get(tag.tag_id, ()))
    body["created_at"] = iso(tag.created_at)
    body["updated_at"] = iso(tag.updated_at)
    return body


def activity_json(activity: ActivityRecord, error_objects: bool = False) -> dict[str, Any]:
    """An activity; `error_objects` for the generic activity DELETE /contact_tags/{id} answers,
    whose errors the contract (ActivityGeneric) makes objects (strings everywhere else)."""
    status: dict[str, Any] = {}
    if activity.state != ActivityState.INITIALIZED:
        status = {
            "items_total_count": activity.total,
            "items_completed_count": activity.items_completed,
        }
        if activity.is_list_activity:
            status["list_count"] = len(activity.list_ids)
    errors: list[Any] = (
        [{"message": e} for e in activity.errors] if error_objects else list(activity.errors)
    )
    body: dict[str, Any] = {
        "activity_id": activity.activity_id,
        "state": activity.state.value,
        "created_at": iso(activity.created_at),
        "updated_at": iso(activity.updated_at or activity.created_at),
        "percent_done": activity.percent_done,
        "activity_errors": errors,
        "status": status,
        "_links": {"self": {"href": f"/v3/activities/{activity.activity_id}"}},
    }
    if activity.started_at is not None:
        body["started_at"] = iso(activity.started_at)
    if activity.completed_at is not None:
        body["completed_at"] = iso(activity.completed_at)
    return body


def list_json(account: Account, item: ListRecord, membership: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "list_id": item.list_id,
        "name": item.name,
        "description": item.description,
        "favorite": item.favorite,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }
    if membership is not None:
        members = account.list_members.get(item.list_id, set())
        if membership == "active":
            members = members & account.active
        body["membership_count"] = len(members)
    return body


def contact_json(contact: ContactRecord, include: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contact_id": contact.contact_id,
        "email_address": {
            "address": contact.email,
            "permission_to_send": contact.permission_to_send,
            "created_at": iso(contact.created_at),
            "updated_at": iso(contact.updated_at),
        },
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "create_source": "Account",
        "created_at": iso(contact.created_at),
        "updated_at": iso(contact.updated_at),
    }
    if contact.deleted_at is not None:
        body["deleted_at"] = contact.deleted_at.date().isoformat()  # format: date
    if "list_memberships" in include:
        body["list_memberships"] = sorted(contact.lists)
    if "taggings" in include:
        body["taggings"] = sorted(contact.tags)
    return body


# ---------------------------------------------------------------- tags


def list_tags(call: Call) -> Answer:
    page = read_page(call.query, max_limit=500)
    include_count = parse_bool(page.params.get("include_count"), "include_count")
    tags, links = page_of(list(call.account.tags.values()), page, "/v3/contact_tags")
    return 200, {
        "tags": [tag_json(call.account, t, include_count) for t in tags],
        "_links": links,
    }


def create_tag(call: Call) -> Answer:
    request = _validated(TagCreate, call.body)
    account = call.account
    if account.tag_by_name(request.name) is not None:
        raise SandboxError(409, f"A tag named {request.name!r} already exists")
    check_tag_room(account)
    now = call.state.now()
    tag = TagRecord(call.state.new_id(), request.name, request.tag_source, now, now)
    account.tags[tag.tag_id] = tag
    account.tag_members[tag.tag_id] = set()
    return 201, tag_json(account, tag)


def _tag(call: Call) -> TagRecord:
    tag = call.account.tags.get(call.path_params["tag_id"])
    if tag is None:
        raise SandboxError(404, "Tag not found")
    return tag


def get_tag(call: Call) -> Answer:
    include_count = parse_bool(call.query.get("include_count"), "include_count")
    return 200, tag_json(call.account, _tag(call), include_count)


def rename_tag(call: Call) -> Answer:
    tag = _tag(call)
    request = _validated(TagRename, call.body)
    source = call.body.get("tag_source") if isinstance(call.body, dict) else None
    if source is not None and source != tag.tag_source:
        raise SandboxError(400, "tag_source cannot be changed")
    clash = call.account.tag_by_name(request.name)
    if clash is not None and clash.tag_id != tag.tag_id:
        raise SandboxError(409, f"A tag named {request.name!r} already exists")
    tag.name = request.name
    tag.updated_at = call.state.now()
    return 200, tag_json(call.account, tag)


def delete_tag(call: Call) -> Answer:
    tag = _tag(call)
    activity = call.state.start_activity(call.account, "tag_delete", tag_ids=[tag.tag_id])
    return 202, activity_json(activity, error_objects=True)


# ---------------------------------------------------------------- activity POSTs


def _check_source_keys(body: Any, model: type[BaseModel]) -> None:
    source = body.get("source") if isinstance(body, dict) else None
    if not isinstance(source, dict):
        raise SandboxError(400, "source is required")
    unknown = sorted(set(source) - set(model.model_fields))
    if unknown:
        raise SandboxError(400, f"source does not take {', '.join(unknown)}")


def _known(ids: list[str], table: Mapping[str, Any], what: str) -> list[str]:
    missing = [i for i in ids if i not in table]
    if missing:
        raise SandboxError(400, f"Unknown {what}: {', '.join(missing[:10])}")
    return list(dict.fromkeys(ids))


def _union(index: Mapping[str, set[str]], ids: list[str]) -> set[str]:
    result: set[str] = set()
    for i in ids:
        result |= index.get(i, set())
    return result


def _resolve(call: Call, source: BaseModel, exclude: list[str]) -> set[str]:
    """The contact ids a source names, minus the excluded ones."""
    account = call.account
    values = dict(source)
    if values.get("contact_ids"):
        chosen = set(_known(values["contact_ids"], account.contacts, "contact ids"))
    elif values.get("list_ids"):
        chosen = _union(account.list_members, _known(values["list_ids"], account.lists, "lists"))
    elif values.get("tag_ids"):
        chosen = _union(account.tag_members, _known(values["tag_ids"], account.tags, "tags"))
    elif values.get("all_active_contacts"):
        chosen = set(account.active)
    elif values.get("new_subscriber"):
        chosen = account.new_subscribers(call.state.now())
    elif values.get("engagement_level") is not None:
        chosen = account.engaged(EngagementLevel(values["engagement_level"]))
    elif values.get("segment_id") is not None:
        segment = account.segments.get(values["segment_id"])
        if segment is None:
            raise SandboxError(400, f"Unknown segment: {values['segment_id']}")
        chosen = segment & account.active
    else:  # the models refuse a request without a source
        chosen = set()
    return chosen.difference(exclude)


def tagging(kind: ActivityKind) -> Handler:
    def handle(call: Call) -> Answer:
        _check_source_keys(call.body, TaggingSource)
        request = _validated(TaggingRequest, call.body)
        tag_ids = _known(request.tag_ids, call.account.tags, "tags")
        exclude = request.exclude.contact_ids if request.exclude else []
        contacts = _resolve(call, request.source, exclude)
        activity = call.state.start_activity(
            call.account, kind, contact_ids=contacts, tag_ids=tag_ids
        )
        return 201, activity_json(activity)

    return handle


def delete_tags(call: Call) -> Answer:
    request = _validated(TagDeleteRequest, call.body)
    tag_ids = _known(request.tag_ids, call.account.tags, "tags")
    activity = call.state.start_activity(call.account, ActivityKind.DELETE_TAGS, tag_ids=tag_ids)
    return 201, activity_json(activity)


def list_membership(kind: ActivityKind) -> Handler:
    source_model = ListAddSource if kind == ActivityKind.ADD_TO_LISTS else ListRemoveSource

    def handle(call: Call) -> Answer:
        _check_source_keys(call.body, source_model)
        source = _validated(source_model, call.body["source"])
        request = _validated(ListMembershipRequest, {**call.body, "source": source})
        list_ids = _known(request.list_ids, call.account.lists, "lists")
        exclude = request.exclude.contact_ids if request.exclude else []
        contacts = _resolve(call, source, exclude)
        activity = call.state.start_activity(
            call.account, kind, contact_ids=contacts, list_ids=list_ids
        )
        return 201, activity_json(activity)

    return handle


# ---------------------------------------------------------------- activities


def get_activity(call: Call) -> Answer:
    wanted = call.path_params["activity_id"]
    for activity in call.state.visible_activities(call.account):
        if activity.activity_id == wanted:
            return 200, activity_json(activity)
    raise SandboxError(404, "Activity not found")


def list_activities(call: Call) -> Answer:
    page = read_page(call.query, max_limit=500)
    wanted = page.params.get("state")
    if wanted is not None and wanted not in STATE_FILTERS:
        raise SandboxError(400, f"state must be one of {', '.join(STATE_FILTERS)}")
    activities = [
        a for a in call.state.visible_activities(call.account) if wanted in (None, a.state.value)
    ]
    chosen, links = page_of(activities, page, "/v3/activities")
    return 200, {"activities": [activity_json(a) for a in chosen], "_links": links}


# ---------------------------------------------------------------- lists


def _membership_option(query: Mapping[str, str]) -> str | None:
    value = query.get("include_membership_count")
    if value in (None, ""):
        return None
    if value not in ("all", "active"):
        raise SandboxError(400, "include_membership_count must be all or active")
    return value


def list_lists(call: Call) -> Answer:
    page = read_page(call.query, max_limit=MAX_LISTS_PAGE)
    membership = _membership_option(page.params)
    include_count = parse_bool(page.params.get("include_count"), "include_count")
    status = page.params.get("status", "active")
    if status not in ("active", "deleted", "all"):
        raise SandboxError(400, "status must be active, deleted or all")
    name = page.params.get("name")
    lists = [
        item
        for item in call.account.lists.values()
        if (name is None or item.name == name) and status in ("all", item.status)
    ]
    chosen, links = page_of(lists, page, "/v3/contact_lists")
    body: dict[str, Any] = {"lists": [list_json(call.account, i, membership) for i in chosen]}
    if include_count:
        body["lists_count"] = len(lists)
    body["_links"] = links
    return 200, body


def get_list(call: Call) -> Answer:
    item = call.account.lists.get(call.path_params["list_id"])
    if item is None:
        raise SandboxError(404, "List not found")
    return 200, list_json(call.account, item, _membership_option(call.query))


# ---------------------------------------------------------------- contacts


def _ids_param(value: str | None, limit: int, what: str) -> list[str] | None:
    if value is None:
        return None
    ids = [part.strip() for part in value.split(",") if part.strip()]
    if len(ids) > limit:
        raise SandboxError(400, f"At most {limit} {what} may be given; got {len(ids)}")
    return ids


def _includes(value: str | None) -> set[str]:
    wanted = {part.strip() for part in (value or "").split(",") if part.strip()}
    unknown = sorted(wanted - set(CONTACT_INCLUDES))
    if unknown:
        raise SandboxError(400, f"include does not take {', '.join(unknown)}")
    return wanted


def _status_filter(account: Account, value: str | None) -> set[str] | None:
    """Contacts of any of the comma-separated statuses (the contract checked each name);
    none given: every contact but the deleted ones. None: no filter (`all`)."""
    wanted = {part.strip() for part in (value or "").split(",") if part.strip()}
    if "all" in wanted:
        return None
    if wanted == {"active"}:
        return set(account.active)
    if not wanted:
        return {cid for cid, c in account.contacts.items() if c.deleted_at is None}
    return {cid for cid, c in account.contacts.items() if c.status in wanted}


def _moment(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SandboxError(400, f"{name} must be an ISO-8601 date-time, not {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _date_filters(account: Account, params: Mapping[str, str]) -> list[set[str]]:
    """One set per date filter given: contacts created/updated after or before it."""
    found = []
    for name, (attribute, direction) in DATE_FILTERS.items():
        moment = _moment(params, name)
        if moment is None:
            continue
        found.append(
            {
                cid
                for cid, c in account.contacts.items()
                if (getattr(c, attribute) - moment).total_seconds() * direction > 0
            }
        )
    return found


def _contact_filters(call: Call, params: Mapping[str, str]) -> set[str] | None:
    """Contact ids matching every filter given, or None when nothing filters."""
    account = call.account
    candidates: list[set[str]] = []
    email = params.get("email")
    if email:
        found = account.by_email.get(email.strip().lower())
        candidates.append({found} if found else set())
    tags = _ids_param(params.get("tags"), MAX_FILTER_TAGS, "tags")
    if tags is not None:
        candidates.append(_union(account.tag_members, tags))
    lists = _ids_param(params.get("lists"), MAX_FILTER_LISTS, "lists")
    if lists is not None:
        candidates.append(_union(account.list_members, lists))
    candidates += _date_filters(account, params)
    status = _status_filter(account, params.get("status"))
    if status is not None:
        candidates.append(status)
    if not candidates:
        return None
    return set.intersection(*candidates)


def list_contacts(call: Call) -> Answer:
    page = read_page(call.query, max_limit=500)
    if "segment_id" in page.params:  # on a next page it rides inside the cursor
        return _segment_members(call)
    include = _includes(page.params.get("include"))
    include_count = parse_bool(page.params.get("include_count"), "include_count")
    matching = _contact_filters(call, page.params)
    contacts = [
        c for cid, c in call.account.contacts.items() if matching is None or cid in matching
    ]
    if page.params.get("updated_after"):
        from datetime import UTC, datetime

        try:
            since = datetime.fromisoformat(page.params["updated_after"])
        except ValueError:
            raise SandboxError(400, "updated_after must be an ISO-8601 date-time") from None
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        contacts = [c for c in contacts if c.updated_at > since]
    chosen, links = page_of(contacts, page, "/v3/contacts")
    body: dict[str, Any] = {"contacts": [contact_json(c, include) for c in chosen]}
    if include_count:
        body["contacts_count"] = len(contacts)
    body["_links"] = links
    return 200, body


def _segment(call: Call, raw: str) -> int:
    segment_id = parse_int(raw, "segment_id", 0)
    if segment_id not in call.account.segments:
        raise SandboxError(404, f"Segment {segment_id} not found")
    return segment_id


def _segment_members(call: Call) -> Answer:
    """A segment is computed on request: its first queries answer 202 with no contacts yet."""
    others = sorted(set(call.query) - SEGMENT_COMPANIONS)
    if others:
        raise SandboxError(
            400, f"segment_id can only be combined with limit, not {', '.join(others)}"
        )
    page = read_page(call.query, max_limit=500)
    segment_id = _segment(call, page.params["segment_id"])
    account = call.account
    if account.segment_computing.get(segment_id, 0) > 0 and "cursor" not in call.query:
        account.segment_computing[segment_id] -= 1
        return 202, {"contacts": [], "_links": {}}
    members = account.segments[segment_id]
    contacts = [c for cid, c in account.contacts.items() if cid in members]
    chosen, links = page_of(contacts, page, "/v3/contacts")
    return 200, {"contacts": [contact_json(c, set()) for c in chosen], "_links": links}


# ---------------------------------------------------------------- segments


def segment_json(account: Account, segment_id: int, detail: bool = False) -> dict[str, Any]:
    created = iso(account.segment_created[segment_id])
    body: dict[str, Any] = {
        "name": account.segment_names[segment_id],
        "segment_id": segment_id,
        "created_at": created,
        "edited_at": created,
    }
    if detail:
        body["segment_criteria"] = '{"version":"1.0.0","criteria":{"type":"and","group":[]}}'
    return body


def list_segments(call: Call) -> Answer:
    page = read_page(call.query, default_limit=MAX_SEGMENTS_PAGE, max_limit=MAX_SEGMENTS_PAGE)
    ids = sorted(call.account.segments)
    chosen, links = page_of(ids, page, "/v3/segments")
    body: dict[str, Any] = {"segments": [segment_json(call.account, i) for i in chosen]}
    if links:  # the contract requires `next` in `_links`: without a next page, no `_links`
        body["_links"] = links
    return 200, body


def get_segment(call: Call) -> Answer:
    segment_id = _segment(call, call.path_params["segment_id"])
    return 200, segment_json(call.account, segment_id, detail=True)


def get_contact(call: Call) -> Answer:
    contact = call.account.contacts.get(call.path_params["contact_id"])
    if contact is None:
        raise SandboxError(404, "Contact not found")
    return 200, contact_json(contact, _includes(call.query.get("include")))


# ---------------------------------------------------------------- account


def account_summary(call: Call) -> Answer:
    account = call.account
    return 200, {
        "encoded_account_id": account.account_id,
        "organization_name": account.name,
        "contact_email": f"owner@{account.account_id}.example.com",
        "country_code": "US",
        "state_code": "MA",
        "time_zone_id": "America/New_York",
    }
