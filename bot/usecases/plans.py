"""A change as a plan: what it will do (summary, preview, cost) and its steps, in order.

Each step is one Constant Contact activity; a step may wait for another (`after`, its
position) to complete before it starts. A command's use case answers a `Plan`; the one
launcher (bot/usecases/launch.py) starts its steps, stores them with their kind and order
(bot/store/jobs.py), and the poller starts a waiting step once the step it waits for
completed, or ends the plan in words when that step did not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from bot.cc.models import ActivityKind
from bot.usecases.outcomes import People


@dataclass(frozen=True)
class Step:
    """One activity: its kind, its V3 body, and the position of the step it waits for."""

    kind: ActivityKind
    body: BaseModel
    after: int | None = None


@dataclass(frozen=True)
class Plan:
    """A checked, resolved request, ready to start.

    `action` names it in the audit and the store (an activity kind for a one-kind plan);
    `warning` is the preview's first line after the request (what cannot be undone); the
    counts (`contacts`, `tag_counts`, `people`, `notes`) are the rest of the preview, and the
    steps with `calls_left` its cost. `confirm`: always ask first, however small.
    """

    action: str
    summary: str
    steps: tuple[Step, ...]
    contacts: int | None = None
    tag_counts: tuple[tuple[str, int | None], ...] = ()
    broad: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    people: People | None = None
    calls_left: int | None = None  # of today's API budget, after planning
    warning: str | None = None
    confirm: bool = False
    single_calls: int = 0  # calls made once confirmed, before the first step (create a tag)
    renamed_from: str | None = None  # a tag renamed before the steps (merge): its old name

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError("A plan has at least one step")
        for position, step in enumerate(self.steps):
            if step.after is not None and not 0 <= step.after < position:
                raise ValueError("A step waits only for a step before it")

    @property
    def parts(self) -> tuple[BaseModel, ...]:
        return tuple(step.body for step in self.steps)

    @property
    def request(self) -> BaseModel:
        return self.steps[0].body

    @property
    def is_job(self) -> bool:
        return len(self.steps) > 1

    @property
    def needs_confirmation(self) -> bool:
        return self.broad or self.confirm


def independent(kind: ActivityKind, bodies: Sequence[BaseModel]) -> tuple[Step, ...]:
    """Steps of one kind that wait for nothing (today's jobs)."""
    return tuple(Step(kind, body) for body in bodies)
