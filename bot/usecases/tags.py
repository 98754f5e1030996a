"""Single requests: create a tag, list tags with their counts, report an activity."""

from __future__ import annotations

from dataclasses import dataclass

from bot.cc.client import AccountClient
from bot.cc.errors import BadRequest, CCError, Conflict, NotFound
from bot.cc.models import Activity, LimitError, Tag, TagCreate, build
from bot.store import Store, TrackedActivity
from bot.usecases.errors import NAME, Refused, explain
from bot.usecases.inputs import Actor
from bot.usecases.names import NameCache
from bot.usecases.plans import record

ACTIVITY_ID_LENGTH = 100


def create_tag(
    client: AccountClient,
    store: Store,
    names: NameCache,
    actor: Actor,
    name: str,
    source_label: str | None = None,
) -> Tag:
    """Create the tag `name` (with an optional tag_source label); Refused says why not."""
    detail = f"“{name}”" + (f" (source {source_label})" if source_label else "")
    try:
        body = build(TagCreate, {"name": name, "tag_source": source_label or None})
        tag = client.create_tag(body.name, body.tag_source)
    except LimitError as exc:
        return _refuse(store, actor, detail, {NAME: str(exc)})
    except Conflict:
        message = f"A tag named “{name.strip()}” exists already (names ignore case)."
        return _refuse(store, actor, detail, {NAME: message})
    except BadRequest as exc:
        return _refuse(store, actor, detail, {NAME: f"Constant Contact refused the name: {exc}"})
    except CCError as exc:
        return _refuse(store, actor, detail, {NAME: explain(exc)})
    names.forget_tags(actor.workspace_id)
    record(store, actor, "create_tag", detail, f"created {tag.tag_id}")
    return tag


def precheck_tag_name(name: str, source_label: str | None = None) -> None:
    """The documented limits of a tag name (1 to 255 characters, no < or >), before any call."""
    try:
        build(TagCreate, {"name": name, "tag_source": source_label or None})
    except LimitError as exc:
        raise Refused({NAME: str(exc)}) from None


def _refuse(store: Store, actor: Actor, detail: str, problems: dict[str, str]) -> Tag:
    refused = Refused(problems)
    record(store, actor, "create_tag", detail, f"refused: {refused.message}")
    refused.audited = True
    raise refused


def tags_with_counts(client: AccountClient, names: NameCache, actor: Actor) -> list[Tag]:
    """Every tag of the account with how many contacts carry it, by name (one fresh call)."""
    try:
        tags = names.tags(client, actor.workspace_id, refresh=True)
    except CCError as exc:
        raise Refused(explain(exc)) from None
    return sorted(tags, key=lambda tag: tag.name.casefold())


@dataclass(frozen=True)
class StatusReport:
    activity: Activity
    tracked: TrackedActivity | None  # set when it was started from Slack


def activity_status(
    client: AccountClient, store: Store, actor: Actor, activity_id: str
) -> StatusReport:
    activity_id = activity_id.strip()
    if not activity_id or len(activity_id) > ACTIVITY_ID_LENGTH or "/" in activity_id:
        raise Refused("Give the activity's id: `/cctag status <activity_id>`")
    try:
        activity = client.get_activity(activity_id)
    except NotFound:
        raise Refused(
            f"No activity `{activity_id}` in this account (Constant Contact keeps them 10 days)."
        ) from None
    except CCError as exc:
        raise Refused(explain(exc)) from None
    return StatusReport(activity, store.get_tracked(actor.workspace_id, activity_id))
