"""Done when: over signed HTTP against the sandbox, one `/cctag add` of 1,200 emails (some
unknown, some unsubscribed) shows the preview, runs as a job of three activities, and its
thread ends with one `completed` reply; exactly the found, subscribed contacts are tagged.
On SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import pytest

from bot.clock import FakeClock
from bot.poller.thread import EVENT_TYPE
from bot.store.jobs import JobStore
from tests.support.slack import Bot, big_bot_on, run_poller, text_of, wait_for

KNOWN = 1196  # contact1..contact1196@example.com exist in the sandbox's demo data
UNKNOWN = 4
TAG = "Webinar 2026"


@pytest.fixture
def job_bot(database_url: str, clock: FakeClock) -> Iterator[Bot]:
    yield from big_bot_on(database_url, clock, contacts=1300)


def emails() -> list[str]:
    known = [f"contact{n}@example.com" for n in range(1, KNOWN + 1)]
    return known + [f"nobody{n}@example.org" for n in range(UNKNOWN)]


def subscribed_ids(bot: Bot) -> set[str]:
    account = bot.sandbox.state.account()
    wanted = set(emails())
    return {c.contact_id for c in account.contacts.values() if c.email in wanted and c.is_active}


def thread_states(bot: Bot, parent_ts: str) -> Counter[str]:
    counted: Counter[str] = Counter()
    for message in bot.fake.thread("C0001", parent_ts):
        meta = message.metadata or {}
        assert meta.get("event_type") == EVENT_TYPE
        counted[str(meta["event_payload"]["state"])] += 1
    return counted


def test_an_add_of_1200_emails_previews_then_runs_as_one_job(
    job_bot: Bot, clock: FakeClock
) -> None:
    bot = job_bot
    bot.sandbox.state.account()  # the demo account
    assert "Created the tag" in text_of(bot.command(f"create {TAG}", "c"))
    subscribed = subscribed_ids(bot)
    assert 1000 < len(subscribed) <= 1500, "three activities of at most 500 contacts"
    skipped = KNOWN - len(subscribed)
    assert skipped > 0, "the demo data holds unsubscribed contacts"

    asked = bot.command(f"add {TAG} --contacts " + ", ".join(emails()), "big")
    # 1,300 contacts page in 3 calls: too quick to announce, whatever the number of emails.
    assert "Looking up" not in text_of(asked)
    preview = text_of(asked)
    assert f"*{len(subscribed)} contacts* found" in preview
    assert f"*{UNKNOWN} emails* not found: nobody0@example.org" in preview
    account = bot.sandbox.state.account()
    deleted = sum(1 for c in account.contacts.values() if c.email in emails() and c.deleted_at)
    assert deleted > 0, "the demo data holds deleted contacts"
    unsubscribed = skipped - deleted
    assert (
        f"*{skipped} contacts* skipped ({deleted} deleted, {unsubscribed} unsubscribed)" in preview
    )
    assert "a job of *3 activities*: 3 API calls to start" in preview
    assert "of today's API calls are left" in preview and "Confirm to start" in preview
    assert bot.parents() == [] and bot.activities() == 0

    confirm = next(b for b in asked["blocks"][1]["elements"] if b["action_id"] == "confirm_command")
    assert bot.local.click(confirm, key="big-yes").status_code == 200
    started = wait_for(
        lambda: [r for r in bot.responses("big-yes") if "Started job" in text_of(r)], what="job"
    )
    [parent] = bot.parents()
    [job] = JobStore(bot.store).recent("T0001")
    assert job.id in parent.text and job.id in text_of(started[0])
    assert len(job.parts) == math.ceil(len(subscribed) / 500) == 3
    assert all(part.activity_id for part in job.parts)
    assert bot.activities() == 3

    run_poller(bot, clock)
    assert thread_states(bot, parent.ts) == Counter(progress=1, job=1)
    [_, end] = bot.fake.thread("C0001", parent.ts)
    assert f"Job {job.id} completed: all 3 activities" in end.text
    tag = bot.sandbox.state.account().tag_by_name(TAG)
    assert tag is not None
    assert bot.sandbox.state.account().tag_members[tag.tag_id] == subscribed
    assert "completed" in bot.fake.message("C0001", parent.ts).text
    status = text_of(bot.command(f"status {job.id}", "job-status"))
    assert f"Job {job.id} completed: all 3 activities" in status
    assert all(f"`{part.activity_id}` *completed*" in status for part in job.parts)


def test_bad_contacts_are_refused_before_anything_is_posted(job_bot: Bot) -> None:
    bot = job_bot
    neither = text_of(bot.command("add VIP --contacts contact1@example.com, hello", "bad1"))
    assert "“hello”: neither an email nor a contact id" in neither
    nobody = text_of(bot.command("add VIP --contacts nobody@x.org", "bad2"))
    assert "No contact with the email nobody@x.org" in nobody
    assert bot.parents() == [] and bot.activities() == 0
