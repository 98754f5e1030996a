"""The store on SQLite and PostgreSQL: migrations, records, leases, post intents, keys, locks."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.clock import FakeClock
from bot.store import NewActivity, Observation, Store
from bot.store.models import Poll, Settlement


def _new(activity_id: str = "act-1", workspace_id: str = "T1") -> NewActivity:
    return NewActivity(
        workspace_id=workspace_id,
        channel_id="C1",
        parent_ts="1700000001.000100",
        requester_id="U1",
        kind="contacts_taggings_add",
        summary="Add tag VIP to 3 contacts",
        activity_id=activity_id,
    )


def _schedule(store: Store, when: dict[int, datetime]) -> None:
    """Each activity next due at the given time (claimed by every workspace, then let go)."""
    served: set[str] = set()
    while claimed := store.claim_workspace_due("x", 1, exclude=served):
        served.update(t.workspace_id for t in claimed)
    done = [Settlement(tracked_id=i, next_poll_at=at) for i, at in when.items()]
    store.settle("x", done)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(database_url: str, clock: FakeClock) -> Store:
    store = Store(database_url, clock)
    store.upgrade()
    return store


def test_migrations_create_every_table_and_run_twice(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade()
    store.upgrade()
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "tracked_activity",
        "slack_post",
        "audit_log",
        "idempotency_key",
        "rate_budget",
        "named_lock",
        "alembic_version",
    } <= tables
    assert store.healthy()


UPGRADE_WHEN_TOLD = """
import pathlib, sys, time
from bot.store import Store
store = Store(sys.argv[1])
assert store.healthy()
pathlib.Path(sys.argv[3]).touch()
while not pathlib.Path(sys.argv[2]).exists():
    time.sleep(0.001)
store.upgrade()
"""


def test_processes_starting_together_upgrade_a_fresh_database_once(
    database_url: str, tmp_path: Path
) -> None:
    """`cctag serve` and `cctag poll` start at once on a new database: neither may fail."""
    go, ready = tmp_path / "go", [tmp_path / f"ready-{n}" for n in range(4)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_WHEN_TOLD, database_url, str(go), str(flag)],
            stderr=subprocess.PIPE,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 60
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # every process connected: they upgrade together
    errors = [process.communicate(timeout=60)[1].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], errors
    assert "tracked_activity" in inspect(Store(database_url).engine).get_table_names()


def test_unreachable_database_is_not_healthy(tmp_path: object) -> None:
    assert not Store("postgresql://nobody@127.0.0.1:1/none").healthy()


def test_claim_once_is_true_only_the_first_time(store: Store, database_url: str) -> None:
    assert store.claim_once("slack:retry:abc")
    assert not store.claim_once("slack:retry:abc")
    assert not Store(database_url).claim_once("slack:retry:abc")
    assert store.claim_once("slack:retry:other")


def test_tracking_records_the_request_and_is_idempotent(store: Store) -> None:
    first = store.track_activity(_new())
    again = store.track_activity(_new())
    assert again.id == first.id
    found = store.get_tracked("T1", "act-1")
    assert found is not None
    assert (found.state, found.summary, found.kind) == (
        "initialized",
        "Add tag VIP to 3 contacts",
        "contacts_taggings_add",
    )
    assert found.created_at.tzinfo is not None and not found.finished
    assert store.get_tracked("T2", "act-1") is None


def test_same_activity_id_in_two_workspaces_is_two_records(store: Store) -> None:
    one = store.track_activity(_new(workspace_id="T1"))
    two = store.track_activity(_new(workspace_id="T2"))
    assert one.id != two.id


def test_recent_activities_newest_first_per_workspace(store: Store, clock: FakeClock) -> None:
    for n in range(4):
        store.track_activity(_new(f"act-{n}"))
        clock.advance(1)
    store.track_activity(_new("elsewhere", workspace_id="T2"))
    recent = store.recent_activities("T1", limit=3)
    assert [a.activity_id for a in recent] == ["act-3", "act-2", "act-1"]


def test_audit_log_keeps_every_action_newest_first(store: Store, clock: FakeClock) -> None:
    store.audit(workspace_id="T1", user_id="U1", action="create_tag", detail="VIP", outcome="ok")
    clock.advance(1)
    store.audit(
        workspace_id="T1", user_id="U2", action="delete_tags", detail="Old", outcome="denied"
    )
    store.audit(workspace_id="T2", user_id="U9", action="create_tag", detail="X", outcome="ok")
    log = store.audit_log("T1")
    assert [(e.user_id, e.action, e.outcome) for e in log] == [
        ("U2", "delete_tags", "denied"),
        ("U1", "create_tag", "ok"),
    ]
    assert log[1].at == clock.now() - timedelta(seconds=1)


def test_due_rows_are_leased_to_one_owner_until_the_lease_expires(
    store: Store, clock: FakeClock
) -> None:
    tracked = store.track_activity(_new())
    assert [t.id for t in store.claim_workspace_due("a", lease_seconds=30)] == [tracked.id]
    assert store.claim_workspace_due("b", lease_seconds=30) == []
    clock.advance(29)
    assert store.claim_workspace_due("b", lease_seconds=30) == []
    clock.advance(2)
    assert [t.lease_owner for t in store.claim_workspace_due("b", lease_seconds=30)] == ["b"]
    assert not store.renew_lease(tracked.id, "a", 30), "the old owner lost the row"
    assert store.renew_lease(tracked.id, "b", 30)


def test_a_due_row_brings_along_the_other_free_rows_of_its_workspace(
    store: Store, clock: FakeClock
) -> None:
    due = store.track_activity(_new("due"))
    later = store.track_activity(_new("later"))
    other = store.track_activity(_new("other", workspace_id="T2"))
    in_a_minute = clock.now() + timedelta(seconds=60)
    _schedule(store, {due.id: clock.now(), later.id: in_a_minute, other.id: in_a_minute})
    claimed = {t.activity_id for t in store.claim_workspace_due("me", 30)}
    assert claimed == {"due", "later"}


def test_one_workspace_at_a_time_the_most_overdue_first(store: Store, clock: FakeClock) -> None:
    plan = {"a": ("T1", 5), "b": ("T2", 9), "c": ("T1", 0)}
    for activity_id, (workspace, _) in plan.items():
        store.track_activity(_new(activity_id, workspace_id=workspace))
    rows = store.recent_activities("T1") + store.recent_activities("T2")
    when = {t.id: clock.now() - timedelta(seconds=plan[t.activity_id][1]) for t in rows}
    _schedule(store, when)
    first = store.claim_workspace_due("me", 30)
    assert {t.activity_id for t in first} == {"b"}
    assert store.claim_workspace_due("other", 30, exclude={"T1"}) == []
    second = store.claim_workspace_due("me", 30, exclude={"T2"})
    assert {t.activity_id for t in second} == {"a", "c"}


def test_polls_and_their_ends_are_recorded_in_one_transaction_each(
    store: Store, clock: FakeClock
) -> None:
    ours, theirs = store.track_activity(_new("ours")), store.track_activity(_new("theirs", "T2"))
    store.claim_workspace_due("me", 30, exclude={"T2"})
    store.claim_workspace_due("other", 30)
    store.intend_post(ours.id, "progress", "me")
    later = clock.now() + timedelta(seconds=5)
    seen = Observation(state="completed", percent_done=100, items_total_count=3)
    polls = [
        Poll(
            tracked_id=tracked.id,
            seen=seen,
            next_poll_at=later,
            poll_interval=5,
            intents=["progress", "state:completed"],
        )
        for tracked in (ours, theirs)
    ]
    posts = store.observe_all("me", polls)
    assert list(posts) == [ours.id], "another poller's row is not recorded"
    assert [(p.key, p.status) for p in posts[ours.id]] == [
        ("progress", "pending"),
        ("state:completed", "pending"),
    ]
    found = store.get_tracked_by_id(ours.id)
    assert found is not None and found.state == "completed" and found.poll_count == 1
    assert found.lease_owner == "me", "kept until its replies are posted"
    untouched = store.get_tracked_by_id(theirs.id)
    assert untouched is not None and untouched.state == "initialized"

    store.settle(
        "me",
        [
            Settlement(
                tracked_id=ours.id,
                posted={"progress": "1.1", "state:completed": "1.2"},
                parent_updated=True,
                finish=True,
            ),
            Settlement(tracked_id=theirs.id, finish=True),
        ],
    )
    done = store.get_tracked_by_id(ours.id)
    assert done is not None and done.finished and done.parent_updated
    assert done.lease_owner is None and done.progress_ts == "1.1"
    assert all(p.posted for p in store.posts_of([ours.id])[ours.id])
    still = store.get_tracked_by_id(theirs.id)
    assert still is not None and not still.finished and still.lease_owner == "other"


def test_settling_a_refused_post_releases_for_later(store: Store, clock: FakeClock) -> None:
    tracked = store.track_activity(_new())
    store.claim_workspace_due("me", 30)
    store.intend_post(tracked.id, "state:processing", "me")
    retry = clock.now() + timedelta(seconds=1)
    store.settle(
        "me",
        [Settlement(tracked_id=tracked.id, skipped=["state:processing"], next_poll_at=retry)],
    )
    found = store.get_tracked_by_id(tracked.id)
    assert found is not None and found.lease_owner is None and found.next_poll_at == retry
    post = store.get_post(tracked.id, "state:processing")
    assert post is not None and post.status == "skipped"


def test_observation_and_finish_need_the_lease(store: Store, clock: FakeClock) -> None:
    tracked = store.track_activity(_new())
    seen = Observation(
        state="processing",
        percent_done=40,
        items_total_count=10,
        items_completed_count=4,
        activity_errors=["one contact was skipped"],
    )
    later = clock.now() + timedelta(seconds=5)
    poll = Poll(tracked_id=tracked.id, seen=seen, next_poll_at=later, poll_interval=5)
    assert store.observe_all("me", [poll]) == {}
    store.claim_workspace_due("me", 30)
    assert list(store.observe_all("me", [poll])) == [tracked.id]
    found = store.get_tracked("T1", "act-1")
    assert found is not None
    assert (found.state, found.percent_done, found.items_completed_count) == ("processing", 40, 4)
    assert found.activity_errors == ["one contact was skipped"] and found.poll_count == 1
    store.settle("someone else", [Settlement(tracked_id=tracked.id, finish=True)])
    held = store.get_tracked("T1", "act-1")
    assert held is not None and not held.finished, "finishing needs the lease"
    store.settle("me", [Settlement(tracked_id=tracked.id, finish=True)])
    done = store.get_tracked("T1", "act-1")
    assert done is not None and done.finished and done.lease_owner is None
    clock.advance(3600)
    assert store.claim_workspace_due("me", 30) == []


def test_post_intent_exists_once_and_is_confirmed_with_its_ts(store: Store) -> None:
    tracked = store.track_activity(_new())
    intent = store.intend_post(tracked.id, "state:completed", "a")
    assert not intent.posted
    assert store.intend_post(tracked.id, "state:completed", "b").owner == "a"
    confirmed = Settlement(tracked_id=tracked.id, posted={"state:completed": "1700000009.000100"})
    store.settle("a", [confirmed])
    post = store.get_post(tracked.id, "state:completed")
    assert post is not None and post.posted and post.ts == "1700000009.000100"
    store.intend_post(tracked.id, "progress", "a")
    progress = Settlement(tracked_id=tracked.id, posted={"progress": "1700000002.000100"})
    store.settle("a", [progress])
    found = store.get_tracked("T1", "act-1")
    assert found is not None and found.progress_ts == "1700000002.000100"
    posts = store.posts_of([tracked.id])[tracked.id]
    assert [p.key for p in posts] == ["state:completed", "progress"]


def test_next_due_at_follows_polls_and_leases(store: Store, clock: FakeClock) -> None:
    assert store.next_due_at() is None
    tracked = store.track_activity(_new())
    assert store.next_due_at() == clock.now()
    store.claim_workspace_due("a", 30)
    assert store.next_due_at() == clock.now() + timedelta(seconds=30)
    later = clock.now() + timedelta(seconds=7)
    store.settle("a", [Settlement(tracked_id=tracked.id, next_poll_at=later)])
    assert store.next_due_at() == clock.now() + timedelta(seconds=7)


def test_refresh_lock_serializes_holders(store: Store, database_url: str) -> None:
    import threading

    # Real time here: the lock's waiters really wait for each other.
    store, other = Store(database_url), Store(database_url)
    inside: list[str] = []
    overlap: list[bool] = []

    def hold(name: str, which: Store) -> None:
        with which.refresh_lock("token:acct-1"):
            overlap.append(bool(inside))
            inside.append(name)
            threading.Event().wait(0.05)
            inside.remove(name)

    threads = [
        threading.Thread(target=hold, args=(f"t{n}", store if n % 2 else other)) for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert overlap == [False] * 4
