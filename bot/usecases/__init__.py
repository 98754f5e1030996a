"""Use cases of cctag, free of Slack payloads and HTTP (see service.py)."""

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
from bot.usecases.service import Operations, Plan, Refused, StatusReport, check_limits

__all__ = [
    "Actor",
    "BulkInput",
    "Catalog",
    "DeleteInput",
    "ListsInput",
    "Operations",
    "Plan",
    "Refused",
    "Source",
    "SourceKind",
    "StatusReport",
    "TaggingInput",
    "check_limits",
]
