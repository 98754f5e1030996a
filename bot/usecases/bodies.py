"""The API's limits and V3 request bodies, checked once: which sources each activity takes,
one activity's worth of a source, the documented limits a request breaks (before any call),
and a resolved request cut into activities that each fit (bot/usecases/jobs.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from bot.cc import inputs
from bot.cc.models import (
    MAX_CONTACT_IDS,
    MAX_SOURCE_LIST_IDS,
    MAX_SOURCE_TAG_IDS,
    MAX_TAGS_PER_TAGGING,
    MAX_TARGET_LIST_IDS,
    ActivityKind,
    LimitError,
    ListAddSource,
    ListMembershipRequest,
    ListRemoveSource,
    TagDeleteRequest,
    TaggingRequest,
    TaggingSource,
    build,
)
from bot.usecases.inputs import BulkInput, DeleteInput, ListsInput, Source, SourceKind, TaggingInput
from bot.usecases.jobs import chunks, plan_batches
from bot.usecases.outcomes import Refused
from bot.usecases.sources import looked_up as _looked_up_source

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


def activity_kind(inp: BulkInput) -> ActivityKind:
    if isinstance(inp, DeleteInput):
        return ActivityKind.DELETE_TAGS
    if isinstance(inp, TaggingInput):
        return ActivityKind.ADD_TAGS if inp.action == "add" else ActivityKind.REMOVE_TAGS
    return ActivityKind.ADD_TO_LISTS if inp.action == "add" else ActivityKind.REMOVE_FROM_LISTS


def action_name(inp: BulkInput) -> str:
    return activity_kind(inp).value


def _engagement(values: list[str]) -> str | None:
    """The level as the API spells it (the person may type `HIGH`); refused in words if none."""
    return inputs.engagement_level(values[0]).value if values else None


def source_body(source: Source) -> dict[str, Any]:
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
    targets = targets[: max_targets(inp)]  # more targets make a job
    model, source_model = models(inp)
    any_source = {"all_active_contacts": True}
    key = target_key(inp)
    _capture(problems, "targets", lambda: build(model, {"source": any_source, key: targets}))
    gap = _source_gap(inp)
    later = looked_up(inp)
    if gap:
        problems["source"] = gap
    elif not later:
        _capture(problems, "source", lambda: build(source_model, source_body(inp.source)))
    if inp.exclude and not problems and not later:
        body = {
            "source": source_body(inp.source),
            "exclude": {"contact_ids": list(inp.exclude)},
            key: targets,
        }
        _capture(problems, "exclude", lambda: build(model, body))
    return problems


def refuse_limits(inp: BulkInput) -> None:
    problems = check_limits(inp)
    if problems:
        raise Refused("; ".join(problems.values()), problems)


def looked_up(inp: TaggingInput | ListsInput) -> bool:
    """Campaign and segment sources: their request body is known only after calls."""
    return _looked_up_source(inp.source, tagging=isinstance(inp, TaggingInput))


def max_targets(inp: TaggingInput | ListsInput) -> int:
    return MAX_TAGS_PER_TAGGING if isinstance(inp, TaggingInput) else MAX_TARGET_LIST_IDS


def target_key(inp: TaggingInput | ListsInput) -> str:
    return "tag_ids" if isinstance(inp, TaggingInput) else "list_ids"


def models(inp: TaggingInput | ListsInput) -> tuple[type[BaseModel], type[BaseModel]]:
    if isinstance(inp, TaggingInput):
        return TaggingRequest, TaggingSource
    source = ListAddSource if inp.action == "add" else ListRemoveSource
    return ListMembershipRequest, source


def split(
    inp: TaggingInput | ListsInput,
    source: dict[str, Any],
    targets: list[str],
    exclude: list[str],
) -> list[BaseModel]:
    """The request as activities: one when it fits, else a job (bot/usecases/jobs.py)."""
    key = target_key(inp)
    [source_key] = source
    if source_key in MAX_BY_KEY:  # ids: split in runs (any source resolved to contact ids)
        batches = plan_batches(
            source[source_key],
            targets,
            max_sources=MAX_BY_KEY[source_key],
            max_targets=max_targets(inp),
        )
        bodies = [
            {"source": {source_key: list(b.source_ids)}, key: list(b.target_ids)} for b in batches
        ]
    else:
        bodies = [{"source": source, key: list(run)} for run in chunks(targets, max_targets(inp))]
    if exclude:
        for body in bodies:
            body["exclude"] = {"contact_ids": exclude}
    model, _ = models(inp)
    return [build(model, body) for body in bodies]
