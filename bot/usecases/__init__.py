"""Use cases of cctag, free of Slack payloads and HTTP (see docs/ARCHITECTURE.md)."""

from bot.usecases.bodies import check_limits
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
from bot.usecases.outcomes import Refused
from bot.usecases.plans import Plan
from bot.usecases.service import Operations, StatusReport

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
