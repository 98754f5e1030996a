"""Use cases of cctag, free of Slack payloads and HTTP (see service.py)."""

from bot.operations.catalog import Catalog
from bot.operations.inputs import (
    Actor,
    BulkInput,
    DeleteInput,
    ListsInput,
    Source,
    SourceKind,
    TaggingInput,
)
from bot.operations.service import Operations, Plan, Refused, StatusReport, check_limits

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
