"""A preview's cost line says what this workspace has left today, and when a change cannot
finish today (bot/usecases/requests.py: cost_line)."""

from __future__ import annotations

from bot.cc.models import ActivityKind, TaggingRequest, build
from bot.usecases.plans import Plan, Step
from bot.usecases.requests import calls_needed, cost_line


def plan(parts: int, calls_left: int | None) -> Plan:
    body = build(TaggingRequest, {"source": {"contact_ids": ["c1"]}, "tag_ids": ["t1"]})
    steps = tuple(Step(ActivityKind.ADD_TAGS, body) for _ in range(parts))
    return Plan("add_tags", "add tag “VIP” to 40 contacts", steps, calls_left=calls_left)


def test_a_change_that_fits_in_what_is_left_says_only_what_is_left() -> None:
    line = cost_line(plan(3, calls_left=500))
    assert "500 of today's API calls are left for this workspace" in line
    assert "cannot finish today" not in line


def test_a_change_past_what_is_left_says_it_cannot_finish_today() -> None:
    line = cost_line(plan(40, calls_left=30))
    assert calls_needed(plan(40, calls_left=30)) == 80
    assert "30 of today's API calls are left for this workspace" in line
    assert "It cannot finish today: it needs about 80 calls" in line
    assert "waits for the budget to reset at 00:00 UTC" in line
