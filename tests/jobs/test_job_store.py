"""The job store on SQLite and PostgreSQL: a job and its parts, written before anything starts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.clock import FakeClock
from bot.store import Store
from bot.store.jobs import JobStore, NewJob, PartSeen
from bot.usecases.jobs import job_progress, plan_batches


@pytest.fixture
def jobs(database_url: str) -> Iterator[tuple[JobStore, FakeClock]]:
    clock = FakeClock(start=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    store = Store(database_url, clock=clock)
    store.upgrade()
    try:
        yield JobStore(store), clock
    finally:
        store.close()


def new_job(contacts: int = 1_200) -> NewJob:
    batches = plan_batches([f"c{n}" for n in range(contacts)], ["tag-1", "tag-2"])
    return NewJob(
        workspace_id="T1",
        channel_id="C1",
        requester_id="U1",
        kind="contacts_taggings_add",
        summary="Add VIP, Donor to 1,200 contacts",
        requests=[
            {"source": {"contact_ids": list(b.source_ids)}, "tag_ids": list(b.target_ids)}
            for b in batches
        ],
    )


def test_a_job_is_stored_with_every_part_planned_before_anything_starts(
    jobs: tuple[JobStore, FakeClock],
) -> None:
    store, _ = jobs
    job = store.create(new_job())
    assert uuid.UUID(job.id).version == 4
    assert job.state == "planned" and not job.end_posted and job.ended_at is None
    assert [p.position for p in job.parts] == [0, 1, 2]
    assert [len(p.request["source"]["contact_ids"]) for p in job.parts] == [500, 500, 200]
    assert all(p.state == "planned" and p.activity_id is None for p in job.parts)
    assert store.get(job.id) == job
    assert store.get(str(uuid.uuid4())) is None
    assert [j.id for j in store.unfinished()] == [job.id]


def test_parts_start_and_progress_and_the_end_is_claimed_once(
    jobs: tuple[JobStore, FakeClock],
) -> None:
    store, clock = jobs
    job = store.create(new_job())
    store.set_parent(job.id, "C1", "1700000000.000100")
    for position in range(3):
        clock.advance(1)
        store.part_started(job.id, position, f"act-{position}", "initialized")
    assert store.job_of_activity("act-1") == job.id
    store.observe_activities(
        job.id,
        {
            "act-0": PartSeen(state="completed", items_total_count=500, items_completed_count=500),
            "act-1": PartSeen(state="processing", items_total_count=500, items_completed_count=250),
            "act-2": PartSeen(state="failed", activity_errors=["Tag limit reached"]),
        },
    )
    seen = store.get(job.id)
    assert seen is not None and seen.state == "running" and seen.parent_ts == "1700000000.000100"
    assert seen.parts[2].activity_errors == ["Tag limit reached"]
    assert seen.parts[1].started_at == datetime(2026, 12, 1, 9, 0, 2, tzinfo=UTC)
    assert not job_progress(job.id, seen.parts).done

    store.observe_activities(job.id, {"act-1": PartSeen(state="completed", items_total_count=500)})
    final = store.get(job.id)
    assert final is not None and job_progress(job.id, final.parts).done
    assert store.end(job.id) is True
    assert store.end(job.id) is False  # a second poller finds it ended
    assert store.end_posted(job.id, "1700000000.000200") is True
    assert store.end_posted(job.id, "1700000000.000300") is False
    ended = store.get(job.id)
    assert ended is not None and ended.state == "ended" and ended.end_ts == "1700000000.000200"
    assert store.unfinished() == [] and [j.id for j in store.recent("T1")] == [job.id]


def test_a_job_needs_at_least_one_part(jobs: tuple[JobStore, FakeClock]) -> None:
    store, _ = jobs
    with pytest.raises(ValueError, match="at least one activity"):
        store.create(new_job().model_copy(update={"requests": []}))
