"""Jobs as plain functions: split a request into activities, and tell a job's progress in words.

What one activity cannot hold (bot/cc/models.py: 500 contacts, 50 source lists or tags, 50 tags
or lists to add or remove, 500 tags to delete) becomes several; a job is all of them together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot.cc.models import (
    MAX_CONTACT_IDS,
    MAX_TAGS_PER_TAGGING,
    ActivityState,
    LimitError,
)
from bot.store.jobs import PARKED, PLANNED, SKIPPED, UNKNOWN, WAITING, JobPart

NEXT_STEP = {
    ActivityState.FAILED: "see why with `/cctag status` and its id, then run that part again",
    ActivityState.CANCELLED: "it was cancelled in Constant Contact; run that part again if it "
    "is still wanted",
    ActivityState.TIMED_OUT: "Constant Contact gave up on it; run that part again later",
}
PROBLEM_STATES = (ActivityState.FAILED, ActivityState.CANCELLED, ActivityState.TIMED_OUT)


@dataclass(frozen=True)
class Batch:
    """One activity's worth: its contacts (or source ids) and its tags or lists."""

    source_ids: tuple[str, ...]
    target_ids: tuple[str, ...]


def chunks(ids: Sequence[str], size: int) -> list[tuple[str, ...]]:
    """`ids` each once (first order kept), in runs of at most `size`."""
    unique = list(dict.fromkeys(ids))
    return [tuple(unique[start : start + size]) for start in range(0, len(unique), size)]


def plan_batches(
    source_ids: Sequence[str],
    target_ids: Sequence[str],
    *,
    max_sources: int = MAX_CONTACT_IDS,
    max_targets: int = MAX_TAGS_PER_TAGGING,
) -> list[Batch]:
    """Every (sources, targets) pair of chunks: each source gets each target exactly once.

    1,200 contacts and 3 tags are 3 activities (500, 500, 200 contacts, all 3 tags); 600
    contacts and 60 tags are 4 (2 runs of contacts times 2 runs of tags). Pass
    `max_sources=MAX_SOURCE_LIST_IDS` (or tags) when the sources are lists or tags, and
    `max_targets=MAX_TARGET_LIST_IDS` for list memberships.
    """
    if not source_ids:
        raise LimitError("Name at least one contact (or list or tag) to act on")
    if not target_ids:
        raise LimitError("Name at least one tag or list")
    return [
        Batch(sources, targets)
        for sources in chunks(source_ids, max_sources)
        for targets in chunks(target_ids, max_targets)
    ]


def activities_needed(sources: int, targets: int, max_sources: int, max_targets: int) -> int:
    """How many activities `plan_batches` makes, without making them (for previews)."""
    return math.ceil(sources / max_sources) * math.ceil(targets / max_targets)


# ---------------------------------------------------------------- progress


@dataclass(frozen=True)
class JobProgress:
    done: bool  # every part ended (or none can start any more)
    completed: bool  # every part completed
    items_done: int
    items_total: int
    parts_ended: int
    parts: int
    text: str
    percent: int  # never goes back: each part's share of the bar is fixed when the job starts


def _state(part: JobPart) -> ActivityState | None:
    try:
        return ActivityState(part.state)
    except ValueError:
        return None


def _ended(part: JobPart) -> bool:
    state = _state(part)
    return state is not None and state.is_terminal


def _planned_items(part: JobPart) -> int:
    """Before Constant Contact counts a part's items: the contacts its request names, if any."""
    source = part.request.get("source")
    contact_ids = source.get("contact_ids") if isinstance(source, dict) else None
    return len(contact_ids) if isinstance(contact_ids, list) else 0


def _items(part: JobPart) -> tuple[int, int]:
    total = part.items_total_count if part.items_total_count is not None else _planned_items(part)
    done = part.items_completed_count or 0
    if _state(part) == ActivityState.COMPLETED and total:
        done = total
    return min(done, total) if total else done, total


def _part_done(part: JobPart) -> float:
    if _state(part) == ActivityState.COMPLETED:
        return 1.0
    done, total = _items(part)
    return done / total if total else 0.0


def _percent(parts: Sequence[JobPart]) -> int:
    """Each part weighs its planned contacts when every part names them, else the same.

    Weighing by the items counted so far would move the bar back: a step that waits for
    another has no count until it starts (a merge read 100%, then 93%)."""
    if not parts:
        return 0
    planned = [_planned_items(part) for part in parts]
    weights = planned if all(planned) else [1] * len(parts)
    share = sum(w * _part_done(part) for w, part in zip(weights, parts, strict=True))
    return math.floor(100 * share / sum(weights))


def job_progress(job_id: str, parts: Sequence[JobPart], *, given_up: bool = False) -> JobProgress:
    """All of a job's activities together, in words; `given_up`: parts not started never will.

    The text says `completed` only when every activity completed; otherwise, once over, it
    names each state reached (`failed`, `cancelled`, `timed_out`, not started) with the
    activities in it and what to do next.
    """
    items = [_items(part) for part in parts]
    items_done, items_total = sum(d for d, _ in items), sum(t for _, t in items)
    skipped = [part for part in parts if part.state in (SKIPPED, UNKNOWN)]
    ended = sum(1 for part in parts if _ended(part)) + len(skipped)
    not_started = [part for part in parts if part.state == PLANNED]
    waiting = any(part.state == WAITING for part in parts)
    over = not waiting and (
        ended == len(parts) or (given_up and ended + len(not_started) == len(parts))
    )
    completed = all(_state(part) == ActivityState.COMPLETED for part in parts)
    counts = f"{items_done:,} of {items_total:,} items"
    if completed:
        every = f"all {len(parts)} activities" if len(parts) > 1 else "its one activity"
        text = f"Job {job_id} completed: {every}, {counts}."
    elif not over:
        counted = f", {counts}" if items_total else ""
        text = f"Job {job_id} processing: {ended} of {len(parts)} activities done{counted}."
        parked = sum(1 for part in parts if part.state == PARKED)
        if parked:
            text += f" {parked} waiting for the day's API budget; they start by themselves."
    else:
        text = _ended_text(job_id, parts, not_started, counts)
    percent = 100 if completed else _percent(parts)
    return JobProgress(over, completed, items_done, items_total, ended, len(parts), text, percent)


def _ended_text(
    job_id: str, parts: Sequence[JobPart], not_started: Sequence[JobPart], counts: str
) -> str:
    done = sum(1 for part in parts if _state(part) == ActivityState.COMPLETED)
    lines = [f"Job {job_id} ended: {done} of {len(parts)} activities completed, {counts}."]
    for state in PROBLEM_STATES:
        hit = [part for part in parts if _state(part) == state]
        if hit:
            ids = ", ".join(part.activity_id or "?" for part in hit)
            lines.append(f"{len(hit)} {state.value} ({ids}): {NEXT_STEP[state]}.")
    unknown = [part for part in parts if part.state == UNKNOWN]
    if unknown:
        positions = ", ".join(str(part.position + 1) for part in unknown)
        lines.append(
            f"{len(unknown)} unknown (part {positions}): Constant Contact did not answer when "
            "it was sent, and its activity list cannot tell whether it ran. Check the "
            "account's recent activities in Constant Contact before running it again."
        )
    skipped = [part for part in parts if part.state == SKIPPED]
    if skipped:
        lines.append(
            f"{len(skipped)} not started ({_waited_for(skipped)}): the part it waited for did "
            "not complete, so nothing was sent for it."
        )
    if not_started:
        positions = ", ".join(str(part.position + 1) for part in not_started)
        lines.append(
            f"{len(not_started)} not started (part {positions}): Constant Contact started "
            "nothing for them; run the request again for the contacts they held."
        )
    return "\n".join(lines)


def _waited_for(parts: Sequence[JobPart]) -> str:
    return ", ".join(
        f"part {part.position + 1}, after part {(part.after or 0) + 1}" for part in parts
    )
