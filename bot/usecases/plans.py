"""A checked, resolved request, ready to start."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from bot.cc.models import ActivityKind
from bot.usecases.outcomes import People


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
