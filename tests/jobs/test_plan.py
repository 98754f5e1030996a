"""A request split into activities within the API's limits, and a job's progress in words."""

from __future__ import annotations

import pytest

from bot.cc.models import (
    MAX_CONTACT_IDS,
    MAX_SOURCE_LIST_IDS,
    MAX_TARGET_LIST_IDS,
    LimitError,
    TaggingRequest,
    build,
)
from bot.store.jobs import JobPart
from bot.usecases.jobs import activities_needed, job_progress, plan_batches

JOB = "7d1c3a9e-5b2f-4c6d-8e1f-0a2b3c4d5e6f"


def ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n}" for n in range(count)]


def test_1200_contacts_and_3_tags_are_three_activities_each_within_the_api_limits() -> None:
    contacts, tags = ids("c", 1_200), ids("t", 3)
    batches = plan_batches(contacts, tags)
    assert [len(b.source_ids) for b in batches] == [500, 500, 200]
    assert all(b.target_ids == tuple(tags) for b in batches)
    assert [c for b in batches for c in b.source_ids] == contacts
    for batch in batches:  # each is a body the client accepts as it is
        build(
            TaggingRequest,
            {"source": {"contact_ids": list(batch.source_ids)}, "tag_ids": list(batch.target_ids)},
        )


def test_more_tags_than_one_activity_holds_cross_every_run_of_contacts() -> None:
    contacts, tags = ids("c", 600), ids("t", 60)
    batches = plan_batches(contacts, tags)
    assert len(batches) == 4 == activities_needed(600, 60, MAX_CONTACT_IDS, 50)
    pairs = {(c, t) for b in batches for c in b.source_ids for t in b.target_ids}
    assert len(pairs) == 600 * 60  # every contact gets every tag, exactly once
    assert max(len(b.target_ids) for b in batches) == 50


def test_lists_as_sources_and_as_targets_use_their_own_limits() -> None:
    batches = plan_batches(
        ids("l", 120),
        ids("L", 51),
        max_sources=MAX_SOURCE_LIST_IDS,
        max_targets=MAX_TARGET_LIST_IDS,
    )
    assert [(len(b.source_ids), len(b.target_ids)) for b in batches] == [
        (50, 50),
        (50, 1),
        (50, 50),
        (50, 1),
        (20, 50),
        (20, 1),
    ]


def test_duplicates_are_planned_once_and_empty_requests_refused() -> None:
    assert plan_batches(["a", "b", "a"], ["t", "t"])[0].source_ids == ("a", "b")
    with pytest.raises(LimitError, match="at least one contact"):
        plan_batches([], ["t"])
    with pytest.raises(LimitError, match="at least one tag or list"):
        plan_batches(["a"], [])


def part(
    position: int, state: str, done: int | None, total: int | None, contacts: int = 0
) -> JobPart:
    activity = None if state == "planned" else f"act-{position + 1}"
    return JobPart(
        position=position,
        request={"source": {"contact_ids": ids("c", contacts)}, "tag_ids": ["t"]},
        activity_id=activity,
        state=state,
        items_completed_count=done,
        items_total_count=total,
    )


def test_a_job_is_completed_only_when_every_activity_completed() -> None:
    running = job_progress(
        JOB,
        [
            part(0, "completed", 500, 500, contacts=500),
            part(1, "processing", 100, 500, contacts=500),
            part(2, "initialized", None, None, contacts=200),
        ],
    )
    assert not running.done and not running.completed
    assert running.text == f"Job {JOB} processing: 1 of 3 activities done, 600 of 1,200 items."
    assert running.percent == 50
    over = job_progress(
        JOB,
        [
            part(0, "completed", 500, 500),
            part(1, "completed", 480, 500),
            part(2, "completed", 0, 200),
        ],
    )
    assert over.done and over.completed and (over.items_done, over.items_total) == (1_200, 1_200)
    assert over.text == f"Job {JOB} completed: all 3 activities, 1,200 of 1,200 items."


def test_the_bar_of_a_job_whose_second_step_waits_never_goes_back() -> None:
    """A merge: tags given to 29 contacts of two tags, then the two tags deleted (2 items)."""

    def step(position: int, state: str, done: int | None, total: int | None) -> JobPart:
        return part(position, state, done, total).model_copy(
            update={"request": {"source": {"tag_ids": ["a", "b"]}, "tag_ids": ["t"]}}
        )

    seen = [
        job_progress(JOB, [step(0, "processing", 10, 29), step(1, "waiting", None, None)]),
        job_progress(JOB, [step(0, "completed", 29, 29), step(1, "waiting", None, None)]),
        job_progress(JOB, [step(0, "completed", 29, 29), step(1, "processing", 0, 2)]),
        job_progress(JOB, [step(0, "completed", 29, 29), step(1, "processing", 1, 2)]),
        job_progress(JOB, [step(0, "completed", 29, 29), step(1, "completed", 2, 2)]),
    ]
    assert [progress.percent for progress in seen] == [17, 50, 50, 75, 100]
    assert seen[1].text == f"Job {JOB} processing: 1 of 2 activities done, 29 of 29 items."
    waiting = job_progress(JOB, [step(0, "waiting", None, None), step(1, "waiting", None, None)])
    assert waiting.text == f"Job {JOB} processing: 0 of 2 activities done."


def test_a_job_whose_parts_partly_fail_names_each_state_and_what_to_do() -> None:
    ended = job_progress(
        JOB,
        [
            part(0, "completed", 500, 500),
            part(1, "failed", 10, 500),
            part(2, "timed_out", 0, 200),
            part(3, "cancelled", 0, 100),
        ],
    )
    assert ended.done and not ended.completed
    lines = ended.text.split("\n")
    assert lines[0] == f"Job {JOB} ended: 1 of 4 activities completed, 510 of 1,300 items."
    assert lines[1].startswith("1 failed (act-2): see why with `/cctag status`")
    assert lines[2].startswith("1 cancelled (act-4): it was cancelled in Constant Contact")
    assert lines[3].startswith("1 timed_out (act-3): Constant Contact gave up on it")
    assert "completed" not in ended.text.replace("activities completed", "")


def test_parts_that_could_not_start_are_said_so_once_the_job_gives_up() -> None:
    parts = [part(0, "completed", 500, 500), part(1, "planned", None, None)]
    assert not job_progress(JOB, parts).done  # it may still start
    given_up = job_progress(JOB, parts, given_up=True)
    assert given_up.done and not given_up.completed
    assert given_up.text.split("\n")[1] == (
        "1 not started (part 2): Constant Contact started nothing for them; run the request "
        "again for the contacts they held."
    )


def test_parts_parked_for_the_budget_are_named_while_the_job_goes_on() -> None:
    parts = [part(0, "completed", 500, 500), part(1, "parked", None, None, contacts=100)]
    waiting = job_progress(JOB, parts)
    assert not waiting.done and "1 waiting for the day's API budget" in waiting.text

