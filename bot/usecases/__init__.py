"""What requests mean, without Slack or HTTP: resolve names, check limits, preview, start."""

from bot.usecases.errors import EXCLUDE, GENERAL, NAME, SOURCE, TARGETS, Refused
from bot.usecases.inputs import Action, Actor, BulkRequest, Source, SourceKind, sources_for
from bot.usecases.names import NameCache
from bot.usecases.plans import (
    Announcer,
    Plan,
    Planner,
    Started,
    precheck,
    precheck_delete,
    record,
    start,
)
from bot.usecases.tags import (
    StatusReport,
    activity_status,
    create_tag,
    precheck_tag_name,
    tags_with_counts,
)

__all__ = [
    "EXCLUDE",
    "GENERAL",
    "NAME",
    "SOURCE",
    "TARGETS",
    "Action",
    "Actor",
    "Announcer",
    "BulkRequest",
    "NameCache",
    "Plan",
    "Planner",
    "Refused",
    "Source",
    "SourceKind",
    "Started",
    "StatusReport",
    "activity_status",
    "create_tag",
    "precheck",
    "precheck_delete",
    "precheck_tag_name",
    "record",
    "sources_for",
    "start",
    "tags_with_counts",
]
