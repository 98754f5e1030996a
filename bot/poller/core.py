"""The poller: follows every tracked activity to its end and tells its Slack thread.

Constant Contact has no webhooks for activities, so the poller asks. Per cycle it leases the
due workspaces one at a time, the most overdue first (each with all its free activities),
makes one `GET /v3/activities` per account that covers them all, and
`GET /v3/activities/{id}` only for those the list does not show. An account's observations
(with the intents of the replies about to be posted) are recorded in one transaction, its ends
are told first, and what its Slack work ended with (ts of the posts, leases let go, activities
finished) in one more: every commit waits for the disk, and a commit per step was most of a
cycle. Each activity's next poll
adapts: soon while it is moving (sooner still when its progress says it is about to finish),
backing off while nothing changes or Constant Contact is failing, and none at all once nothing
is in flight.

Exactly once: see bot/poller/thread.py. Replies are keyed per activity (`progress`,
`state:<state>`); an intent is stored before each chat.postMessage and confirmed with the ts
after, and a pending intent found on recovery is first looked up in the thread. Rows are
leased (SELECT ... FOR UPDATE SKIP LOCKED), a post is sent only with half a lease left at
least (renewed otherwise), and a dead poller's lease expires, so several pollers never post the
same reply twice and a killed one loses nothing.

Bounded: an activity whose end is recorded makes no more Constant Contact call (only its Slack
work is left); a thread's Slack work is tried at most MAX_SLACK_TRIES times in a row, backing
off, before the thread is given up; a deferred thread holds its lease until it is due again, so
no other activity of its workspace brings it back early. Slack's pace: bot/poller/pace.py.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from functools import partial

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cc.budget import BudgetSpent, Priority, calling, in_background, next_reset
from bot.cc.client import AccountClient
from bot.cc.errors import CCError, NotFound
from bot.cc.models import Activity, ActivityState
from bot.clock import Clock
from bot.ops.logs import activity_ids, log_ids
from bot.ops.metrics import observe_settled
from bot.poller import messages
from bot.poller.failures import WORKSPACE_WIDE, Failure, Outcome, classify
from bot.poller.pace import Pace, Paced
from bot.poller.slack import bounded
from bot.poller.thread import PROGRESS, ReadBack, Thread, post_key
from bot.ports import Accounts, SlackClients
from bot.store import Observation, SlackPost, Store, TrackedActivity
from bot.store.jobs import LAUNCHED, WAITING, Job, JobStore, PartSeen
from bot.store.models import Poll, Settlement
from bot.store.store import POSTED, SKIPPED
from bot.usecases.jobs import JobProgress, job_progress
from bot.usecases.launch import IN_FLIGHT_WINDOW
from bot.usecases.resume import (
    parked_positions,
    parked_until,
    settle,
    start_parked,
    start_ready,
)

log = logging.getLogger(__name__)

BACKOFF = 1.5
OUTAGE_BACKOFF = 2.0
MAX_LIST_LIMIT = 500
MIN_LIST_LIMIT = 50
_Work = Callable[[], None]
TERMINAL = {state.value for state in ActivityState if state.is_terminal}


Posts = dict[str, SlackPost]
# An account's listing this cycle, by its account key (None: the single configured account).
_Listings = dict[str | None, "dict[str, Activity] | BudgetSpent | None"]
_Group = tuple[AccountClient | None, list[TrackedActivity]]
PROGRESS_STEP = 10  # percent: the progress reply is edited when it crosses a step (Slack's rate)
# A job's end is posted through its carrier row under this state (key `state:job`).
JOB_END = "job"
# A launch that died half-way never marks its job launched: after this, its unstarted parts
# are taken as never starting, so the job can still end.
LAUNCH_GRACE = timedelta(minutes=10)
# Slack work that fails this many times in a row (backing off) gives its thread up: about 8
# minutes with the default intervals, not a day of polls.
MAX_SLACK_TRIES = 10
# Slack's 429s are its pace, not a fault of the thread (several pollers share a channel's):
# they are waited out, up to this many in a row.
MAX_RATE_LIMITED = 50


def _settled(tracked: TrackedActivity, posts: Posts) -> bool:
    """Everything this activity's current state calls for is in its thread already."""
    if any(post.pending for post in posts.values()) or tracked.state in TERMINAL:
        return False
    wanted = {post_key(PROGRESS)}
    if tracked.state != ActivityState.INITIALIZED:
        wanted.add(post_key(tracked.state))
    return wanted <= posts.keys()


def _shown_progress(tracked: TrackedActivity) -> tuple[str, int]:
    return tracked.state, (tracked.percent_done or 0) // PROGRESS_STEP


def _wanted(state: str) -> list[str]:
    """The keys of the replies a poll seeing `state` means to have in the thread."""
    if state == ActivityState.INITIALIZED:
        return [post_key(PROGRESS)]
    return [post_key(PROGRESS), post_key(state)]


class _Poll:
    """One activity in this cycle: as claimed, then as observed; its posts; how it ends."""

    def __init__(self, tracked: TrackedActivity, posts: list[SlackPost]) -> None:
        self.tracked = tracked
        self.posts: Posts = {post.key: post for post in posts}
        self.stale = {post.key for post in posts if post.pending}  # a dead poller's, maybe
        self.refresh = False
        self.lease_until = tracked.lease_expires_at
        self.settle = True
        self.done = Settlement(tracked_id=tracked.id)
        self.posting: str | None = None  # the key of the reply being posted right now

    def observed(self, seen: Observation, record: Poll, now: datetime) -> None:
        before = self.tracked
        self.tracked = before.model_copy(
            update=seen.model_dump()
            | {
                "updated_at": now,
                "next_poll_at": record.next_poll_at,
                "poll_interval": record.poll_interval,
                "poll_count": before.poll_count + 1,
            }
        )
        self.refresh = _shown_progress(before) != _shown_progress(self.tracked)

    def posted(self, key: str, ts: str) -> None:
        self.posts[key] = self.posts[key].model_copy(update={"status": POSTED, "ts": ts})
        self.done.posted[key] = ts


class LeaseLost(Exception):
    """Another poller took the activity over (our lease expired): stop touching it."""


def observation(activity: Activity) -> Observation:
    status = activity.status
    return Observation(
        state=activity.state,
        percent_done=activity.percent_done,
        items_total_count=status.items_total_count if status else None,
        items_completed_count=status.items_completed_count if status else None,
        list_count=status.list_count if status else None,
        activity_errors=list(activity.activity_errors),
    )


def _changed(tracked: TrackedActivity, seen: Observation) -> bool:
    before = (tracked.state, tracked.percent_done, tracked.items_completed_count)
    return before != (seen.state, seen.percent_done, seen.items_completed_count)


class Poller:
    def __init__(
        self,
        store: Store,
        accounts: Accounts,
        slack: SlackClients,
        clock: Clock,
        *,
        owner: str,
        base_interval: float = 5.0,
        max_interval: float = 60.0,
        lease_seconds: float = 30.0,
        max_age: timedelta = timedelta(hours=24),
        min_interval: float | None = None,
        reads_per_minute: int = 1,
        sweeps: Sequence[Callable[[], object]] = (),
    ) -> None:
        self._store = store
        self._jobs = JobStore(store)
        self._sweeps = tuple(sweeps)  # housekeeping each cycle (approvals past their time)
        # What each job's progress reply last showed (parts ended, step): edited when it moves.
        self._job_shown: dict[str, tuple[int, int]] = {}
        self._accounts = accounts
        self._slack = slack
        self._clock = clock
        self._owner = owner
        self._base = base_interval
        self._max = max_interval
        self._min = min(1.0, base_interval) if min_interval is None else min_interval
        self._lease = lease_seconds
        self._half_lease = timedelta(seconds=lease_seconds / 2)
        self._max_age = max_age
        # Thread reads cut short by Slack's 1-a-minute limit, resumed where they stopped.
        self._readbacks: dict[int, ReadBack] = {}
        self._pace = Pace(clock, reads_per_minute=reads_per_minute)
        # Slack work failed so many times in a row (by kind), by row id.
        self._tries: dict[int, dict[str, int]] = {}

    # ------------------------------------------------------------------ cycles
    def run_once(self, stop: threading.Event | None = None) -> float:
        """One cycle; answers the seconds until the next one is worth running.

        Each due workspace is leased and served on its own, the most overdue first: a poll
        waits for the rate budget only behind polls more urgent than itself, and two pollers
        split the workspaces between them as they go. An account is listed once a cycle.
        Once `stop` is set no other workspace is leased: during a Constant Contact outage each
        one spends its retries, and a shutdown would wait for all of them.
        """
        self._settle_plans()
        self._start_parked()
        self._sweep()
        served: set[str] = set()
        listings: _Listings = {}
        while not (stop is not None and stop.is_set()) and (
            claimed := self._store.claim_workspace_due(self._owner, self._lease, exclude=served)
        ):
            served.update(tracked.workspace_id for tracked in claimed)
            try:
                self._serve(claimed, listings)
            except Exception:
                # Its leases expire and a later cycle resumes it; the other workspaces go on.
                log.exception("serving workspace %s failed", claimed[0].workspace_id)
        return self._seconds_to_next()

    def _sweep(self) -> None:
        for sweep in self._sweeps:
            try:
                sweep()
            except Exception:
                log.exception("a sweep failed; the next cycle tries again")

    def _serve(self, claimed: list[TrackedActivity], listings: _Listings) -> None:
        posts = self._store.posts_of([tracked.id for tracked in claimed])
        for client, rows in self._by_account(claimed):
            polls = [_Poll(tracked, posts.get(tracked.id, [])) for tracked in rows]
            if client is None:
                for poll in polls:
                    self._unreachable(poll)
            else:
                with calling(claimed[0].workspace_id, Priority.FOLLOW):
                    self._follow_account(client, polls, listings)
            # One transaction for everything the account's polls ended with.
            self._store.settle(self._owner, [poll.done for poll in polls if poll.settle])
            observe_settled(((p.tracked, p.settle and p.done.finish) for p in polls), self._clock)

    def run_forever(self, stop: threading.Event) -> None:
        """Cycle until `stop` is set; a cycle under way finishes first, so nothing is lost."""
        while not stop.is_set():
            try:
                wait = self.run_once(stop)
            except Exception:
                log.exception("poll cycle failed; leases expire and the next cycle resumes")
                wait = self._base
            stop.wait(wait)

    def _settle_plans(self) -> None:
        """Plans whose launcher is gone, or with a step in doubt past the in-flight window:
        taken over (bot/usecases/resume.py `settle`), so every step Constant Contact ran is
        followed once, none is sent twice, and the rest start or end in words."""
        for job_id in self._jobs.to_settle(IN_FLIGHT_WINDOW):
            job = self._jobs.get(job_id)
            client = self._accounts.client_for(job.workspace_id) if job is not None else None
            if job is None or client is None:
                continue  # not connected now: its lease lapses and a later cycle tries again
            try:
                with calling(job.workspace_id, Priority.BACKGROUND):
                    settled = settle(self._store, client, job_id)
            except Exception:
                log.exception("settling plan %s failed; a later cycle tries again", job_id)
                continue
            if settled is not None and settled.nothing_sent:
                self._tell_not_started(settled.job)
            elif settled is not None and settled.over:
                self._tell_over(settled.job)

    def _start_parked(self) -> None:
        """Job steps parked for the day's budget whose time has come: started, as background
        work (bot/usecases/resume.py `start_parked`); the job's thread follows them."""
        for job_id in self._jobs.parked_due():
            job = self._jobs.get(job_id)
            client = self._accounts.client_for(job.workspace_id) if job is not None else None
            if job is None or client is None:
                continue  # not connected now: a later cycle tries again
            try:
                with calling(job.workspace_id, Priority.BACKGROUND):
                    start_parked(self._store, client, job_id)
            except Exception:
                log.exception("starting the parked steps of job %s failed; next cycle", job_id)

    def _tell_not_started(self, job: Job) -> None:
        """Its launcher died before the parent message: the requester learns it by DM, once
        (the plan was ended before this is sent)."""
        told = messages.plan_not_started(job.requester_id, job.summary)
        try:
            self._slack.client_for(job.workspace_id).chat_postMessage(
                channel=job.requester_id, text=told.text, blocks=told.blocks
            )
        except Exception as exc:
            log.warning("could not tell %s by DM (%s)", job.requester_id, classify(exc).error)

    def _tell_over(self, job: Job) -> None:
        """A plan taken over with no step started (each refused, or unknown): its end in its
        thread, and its parent. Said at most once: the plan was ended before this is sent."""
        assert job.parent_ts is not None
        progress = job_progress(job.id, job.parts, given_up=True)
        end, parent = messages.plan_over(job, progress), messages.plan_over_parent(job)
        client = self._slack.client_for(job.workspace_id)
        try:
            posted = client.chat_postMessage(
                channel=job.channel_id, thread_ts=job.parent_ts, text=end.text, blocks=end.blocks
            )
            self._jobs.end_posted(job.id, str(posted["ts"]))
            client.chat_update(
                channel=job.channel_id, ts=job.parent_ts, text=parent.text, blocks=parent.blocks
            )
        except Exception as exc:
            log.warning("could not end plan %s in its thread (%s)", job.id, classify(exc).error)

    def _seconds_to_next(self) -> float:
        due = self._store.next_due_at()
        if due is None:
            return self._base  # nothing in flight: only the database is asked
        wait = (due - self._clock.now()).total_seconds()
        return min(max(wait, 0.0), self._base)

    def _by_account(self, claimed: Iterable[TrackedActivity]) -> list[_Group]:
        """Activities of one account (its public account key) share its single list call.

        A client is asked for once per workspace: OAuth connections make a new one each time.
        """
        clients: dict[str, AccountClient | None] = {}
        groups: dict[tuple[bool, str | None], _Group] = {}
        for tracked in claimed:
            workspace = tracked.workspace_id
            if workspace not in clients:
                clients[workspace] = self._accounts.client_for(workspace)
            client = clients[workspace]
            key = (client is not None, client.account_key if client is not None else None)
            groups.setdefault(key, (client, []))[1].append(tracked)
        return list(groups.values())

    # ------------------------------------------------------------------ Constant Contact
    def _follow_account(
        self, client: AccountClient, polls: list[_Poll], listings: _Listings
    ) -> None:
        # An end already recorded needs only its Slack work: Constant Contact is not asked.
        for poll in polls:
            if poll.tracked.state in TERMINAL:
                self._guarded(poll, partial(self._publish, poll))
        polls = [poll for poll in polls if poll.tracked.state not in TERMINAL]
        if not polls:
            return
        listed = self._listing(client, len(polls), listings)
        if isinstance(listed, BudgetSpent):
            for poll in polls:
                self._wait_for_budget(poll, listed)
            return
        if listed is None:
            for poll in polls:
                self._unreachable(poll)
            return
        seen: list[tuple[_Poll, Activity]] = []
        for poll in polls:
            activity = listed.get(poll.tracked.activity_id)
            if activity is None:
                activity = self._fetch_one(client, poll)
            if activity is not None:
                seen.append((poll, activity))
        self._follow(seen, client)

    def _listing(
        self, client: AccountClient, rows: int, listings: _Listings
    ) -> dict[str, Activity] | BudgetSpent | None:
        """The account's recent activities, listed once a cycle (None: it cannot be asked now;
        BudgetSpent: not before the budget comes back)."""
        if client.account_key in listings:
            return listings[client.account_key]
        limit = min(MAX_LIST_LIMIT, max(MIN_LIST_LIMIT, 2 * rows + MIN_LIST_LIMIT))
        listed: dict[str, Activity] | BudgetSpent | None = None
        try:
            listed = {a.activity_id: a for a in client.list_activities(limit=limit)}
        except BudgetSpent as spent:
            listed = spent
        except CCError as exc:
            log.warning("listing activities failed (%s); keeping state and backing off", exc)
        listings[client.account_key] = listed
        return listed

    def _fetch_one(self, client: AccountClient, poll: _Poll) -> Activity | None:
        try:
            return client.get_activity(poll.tracked.activity_id)
        except BudgetSpent as spent:
            self._wait_for_budget(poll, spent)
        except NotFound:
            log.warning("activity %s is gone from Constant Contact", poll.tracked.activity_id)
            self._lose(poll)
        except CCError as exc:
            log.warning("reading activity %s failed (%s)", poll.tracked.activity_id, exc)
            self._unreachable(poll)
        return None

    def _lose(self, poll: _Poll) -> None:
        """Constant Contact no longer knows the activity: say so, audit it, close the parent."""
        tracked = poll.tracked

        def lose() -> None:
            thread = self._thread(tracked)
            self._reconcile(poll, thread, wanted={messages.LOST})
            self._post_once(poll, thread, messages.LOST, messages.lost(tracked))
            self._close_parent(poll, thread, messages.parent_lost(tracked))
            poll.done.finish = poll.done.gave_up = True
            # After the Slack work: a deferred thread comes back here, audited only once.
            self._store.audit(
                workspace_id=tracked.workspace_id,
                user_id=tracked.requester_id,
                action="activity_lost",
                detail=f"activity {tracked.activity_id} in {tracked.channel_id}",
                outcome=f"Constant Contact answered 404; last seen {tracked.state}",
            )

        self._guarded(poll, lose)

    def _wait_for_budget(self, poll: _Poll, spent: BudgetSpent) -> None:
        """The day (or the workspace's share of it) is spent: come back when it may not be,
        and say so in the thread once a day (a job's parts through its carrier only)."""
        tracked = poll.tracked
        poll.done.next_poll_at = max(spent.retry_at, self._at(self._min))
        if tracked.job_id is not None and not tracked.job_carrier:
            return

        def say() -> None:
            thread = self._thread(tracked)
            state = f"{messages.WAITING}:{spent.reset_at.date().isoformat()}"
            parked = self._parked(tracked)  # one word for both: the parts wait, and following
            reply = parked[1] if parked else messages.waiting_for_budget(tracked, spent)
            self._post_once(poll, thread, state, reply)

        self._guarded(poll, say)

    def _unreachable(self, poll: _Poll) -> None:
        """Constant Contact (or the account) cannot be asked now: keep state, ask later."""
        if self._too_old(poll.tracked):
            self._give_up(poll)
            return
        interval = min(self._max, max(self._base, poll.tracked.poll_interval) * OUTAGE_BACKOFF)
        poll.done.next_poll_at = self._at(interval)

    # ------------------------------------------------------------------ activities
    def _follow(self, seen: list[tuple[_Poll, Activity]], client: AccountClient) -> None:
        """Record what the list said in one transaction, then tell the threads, ends first."""
        records: list[tuple[_Poll, Poll]] = []
        for poll, activity in seen:
            try:
                records.append((poll, self._record(poll, activity)))
            except Exception:
                log.exception(
                    "what Constant Contact said of %s is unusable", poll.tracked.activity_id
                )
                self._unreachable(poll)
        recorded = self._store.observe_all(self._owner, [record for _, record in records])
        jobs = self._record_parts([poll for poll, _ in records if poll.tracked.id in recorded])
        for job_id in jobs:
            self._start_waiting(client, job_id)
        moving: list[_Poll] = []
        for poll, record in records:
            if poll.tracked.id not in recorded:
                poll.settle = False  # another poller holds it now
            elif record.release:
                poll.settle = False  # quiet: released with the observation
            else:
                poll.posts = {post.key: post for post in recorded[poll.tracked.id]}
                moving.append(poll)
        # Ends first: they are what the requester is waiting for.
        moving.sort(key=lambda poll: poll.tracked.state not in TERMINAL)
        for poll in moving:
            if poll.tracked.state not in TERMINAL and self._too_old(poll.tracked):
                self._give_up(poll)
            else:
                self._guarded(poll, partial(self._publish, poll))

    def _record(self, poll: _Poll, activity: Activity) -> Poll:
        tracked, observed = poll.tracked, observation(activity)
        changed = _changed(tracked, observed)
        interval = self._interval(tracked, observed, changed)
        too_old = self._too_old(tracked)
        quiet = not changed and _settled(tracked, poll.posts) and not too_old
        gives_up = too_old and observed.state not in TERMINAL
        wanted = [] if quiet or gives_up else _wanted(observed.state)
        if tracked.job_id is not None:
            # A job's parts post nothing of their own; its carrier is published every cycle
            # (the other parts move its progress), with the job's replies intended as it goes.
            ended = observed.state in TERMINAL
            quiet = not tracked.job_carrier and not changed and not ended and not too_old
            wanted = [post_key(PROGRESS)] if tracked.job_carrier and not gives_up else []
        record = Poll(
            tracked_id=tracked.id,
            seen=observed,
            next_poll_at=self._at(interval),
            poll_interval=interval,
            release=quiet,
            intents=[key for key in wanted if key not in poll.posts],
        )
        poll.observed(observed, record, self._clock.now())
        return record

    def _publish(self, poll: _Poll) -> None:
        if poll.tracked.job_id is not None:
            self._publish_part(poll)
            return
        tracked = poll.tracked
        thread = self._thread(tracked)
        terminal = tracked.state in TERMINAL
        self._reconcile(poll, thread, wanted={PROGRESS, tracked.state})
        progress = poll.posts.get(post_key(PROGRESS))
        if progress is None or progress.pending:
            self._post_once(poll, thread, PROGRESS, messages.progress(tracked))
            progress = None  # posted as it is now
        if tracked.state != ActivityState.INITIALIZED:
            reply = messages.state_reply(tracked, self._clock.now())
            self._post_once(poll, thread, tracked.state, reply)
        if progress is not None and progress.ts and (self._owes(poll) or terminal):
            self._edit_progress(
                poll, thread, progress.ts, messages.progress(tracked), final=terminal
            )
        if terminal:
            self._close_parent(poll, thread, messages.parent_final(tracked, gave_up=False))
            poll.done.finish = True

    # ------------------------------------------------------------------ jobs
    def _record_parts(self, polls: list[_Poll]) -> list[str]:
        """What the parts of jobs were seen doing, one transaction per job; answers the jobs."""
        by_job: dict[str, dict[str, PartSeen]] = {}
        for poll in polls:
            tracked = poll.tracked
            if tracked.job_id is not None:
                by_job.setdefault(tracked.job_id, {})[tracked.activity_id] = PartSeen(
                    state=tracked.state,
                    percent_done=tracked.percent_done,
                    items_total_count=tracked.items_total_count,
                    items_completed_count=tracked.items_completed_count,
                    activity_errors=tracked.activity_errors,
                )
        for job_id, seen in by_job.items():
            self._jobs.observe_activities(job_id, seen)
        return list(by_job)

    def _start_waiting(self, client: AccountClient, job_id: str) -> None:
        """Steps waiting for a step that ended: started, or ended in words (usecases/resume.py)."""
        job = self._jobs.get(job_id)
        if job is None or not any(part.state == WAITING for part in job.parts):
            return
        try:
            with in_background():  # starting a job's step is background work
                start_ready(self._store, client, job_id, launch_over=self._launch_over(job))
        except Exception:
            log.exception("starting the waiting steps of job %s failed; next cycle", job_id)

    def _launch_over(self, job: Job) -> bool:
        return job.state == LAUNCHED or self._clock.now() - job.created_at > LAUNCH_GRACE

    def _job_now(self, job_id: str) -> JobProgress | None:
        job = self._jobs.get(job_id)
        if job is None:
            return None
        return job_progress(job.id, job.parts, given_up=self._launch_over(job))

    def _publish_part(self, poll: _Poll) -> None:
        """A job's part: the carrier tells the whole job; the others only end when they end."""
        tracked = poll.tracked
        if not tracked.job_carrier:
            poll.done.finish = tracked.state in TERMINAL
            return
        assert tracked.job_id is not None
        progress = self._job_now(tracked.job_id)
        if progress is None:
            poll.done.finish = tracked.state in TERMINAL
            return
        thread = self._thread(tracked)
        parked = None if progress.done else self._parked(tracked)
        wanted = {PROGRESS, JOB_END} if progress.done else {PROGRESS}
        self._reconcile(poll, thread, wanted=wanted | ({parked[0]} if parked else set()))
        shown = poll.posts.get(post_key(PROGRESS))
        step = (progress.parts_ended, progress.percent // PROGRESS_STEP)
        if shown is None or shown.pending:
            self._post_once(poll, thread, PROGRESS, messages.job_progress(tracked, progress))
            self._job_shown[tracked.job_id] = step
        elif shown.ts and (progress.done or self._job_shown.get(tracked.job_id) != step):
            told = messages.job_progress(tracked, progress)
            if self._edit_progress(poll, thread, shown.ts, told, final=progress.done):
                self._job_shown[tracked.job_id] = step
        if parked is not None:
            key, told, until = parked
            self._post_once(poll, thread, key, told)
            if tracked.state in TERMINAL:  # its own activity is over: no need to ask often
                poll.done.next_poll_at = max(min(until, self._at(self._max)), self._at(self._min))
        if progress.done:
            ts = self._post_once(poll, thread, JOB_END, messages.job_end(tracked, progress))
            self._close_parent(poll, thread, messages.job_parent_final(tracked, progress))
            self._jobs.end(tracked.job_id)
            if ts:
                self._jobs.end_posted(tracked.job_id, ts)
            self._job_shown.pop(tracked.job_id, None)
            poll.done.finish = True

    def _parked(self, tracked: TrackedActivity) -> tuple[str, messages.Message, datetime] | None:
        """The reply (its state, said once a day) of a job whose steps wait for the budget."""
        job = self._jobs.get(tracked.job_id) if tracked.job_id is not None else None
        until = parked_until(job) if job is not None else None
        if job is None or until is None:
            return None
        reset = next_reset(self._clock.now())
        told = messages.job_waiting_for_budget(
            tracked, parked_positions(job), len(job.parts), until, reset
        )
        return f"{messages.WAITING}:{reset.date().isoformat()}", told, until

    def _give_up(self, poll: _Poll) -> None:
        tracked = poll.tracked
        if tracked.job_id is not None and not tracked.job_carrier:
            poll.done.finish = poll.done.gave_up = True  # the carrier speaks for the job
            return

        def give_up() -> None:
            thread = self._thread(tracked)
            self._reconcile(poll, thread, wanted={messages.GIVEN_UP})
            if tracked.job_id is not None:  # the carrier: the whole job is no longer followed
                reply = messages.job_given_up(tracked, self._max_age)
                final = messages.job_parent_gave_up(tracked)
            else:
                reply = messages.given_up(tracked, self._max_age)
                final = messages.parent_final(tracked, gave_up=True)
            self._post_once(poll, thread, messages.GIVEN_UP, reply)
            self._close_parent(poll, thread, final)
            if tracked.job_id is not None:
                self._jobs.end(tracked.job_id)
            poll.done.finish = poll.done.gave_up = True

        self._guarded(poll, give_up)

    def _guarded(self, poll: _Poll, work: _Work) -> None:
        with log_ids(**activity_ids(poll.tracked)):  # on every line logged meanwhile
            self._run_guarded(poll, work)

    def _run_guarded(self, poll: _Poll, work: _Work) -> None:
        """Run one activity's Slack work; whatever it raises stays with that activity.

        Errors that pass defer its work to a later cycle (never a sleep here); errors that
        will not give its thread up. A lost lease leaves the row to the poller that has it.
        """
        tracked_id = poll.tracked.id
        try:
            work()
        except LeaseLost:
            log.warning("lost the lease on %s to another poller", poll.tracked.activity_id)
            poll.done.release = poll.done.finish = False
        except Paced as paced:
            # Not a failure: the call was never made; the thread goes on when Slack allows.
            log.info("%s for %s: %s", paced.what, poll.tracked.activity_id, paced)
            self._defer(poll, Failure(Outcome.RETRY, "paced", paced.seconds, refused=True))
        except Exception as exc:
            failure = classify(exc)
            if not isinstance(exc, SlackApiError):
                log.exception("Slack work for %s failed", poll.tracked.activity_id)
            tries = self._count_try(tracked_id, failure)
            limited = failure.error == "ratelimited"
            bound = MAX_RATE_LIMITED if limited else MAX_SLACK_TRIES
            if failure.outcome is Outcome.GIVE_UP or tries >= bound:
                self._abandon(poll, failure)
            else:
                self._defer(poll, failure, tries)
        else:
            self._tries.pop(tracked_id, None)

    def _count_try(self, tracked_id: int, failure: Failure) -> int:
        """How many times in a row this thread's work failed so (429s are counted apart)."""
        kind = "ratelimited" if failure.error == "ratelimited" else "failed"
        counts = self._tries.setdefault(tracked_id, {})
        counts[kind] = counts.get(kind, 0) + 1
        return counts[kind]

    def _defer(self, poll: _Poll, failure: Failure, tries: int = 0) -> None:
        """Try this thread again after Slack's Retry-After (or a growing backoff).

        The lease is held until then, so the thread's companions do not bring it back early.
        """
        if tries:
            log.warning("Slack said %s for %s; later", failure.error, poll.tracked.activity_id)
        self._withdraw_unsent(poll, failure)
        poll.done.finish = False
        poll.done.release = poll.done.hold = True
        backoff = min(self._max, self._base * 2 ** max(tries - 1, 0))
        wait = failure.retry_after if failure.retry_after is not None else backoff
        poll.done.next_poll_at = self._at(max(wait, self._min))

    def _withdraw_unsent(self, poll: _Poll, failure: Failure) -> None:
        """Intents of this cycle that certainly were not posted: the next cycle posts afresh,
        without reading the thread back (1 read a minute). A dead poller's are not ours."""
        maybe_sent = None if failure.refused else poll.posting
        for key in [key for key, post in poll.posts.items() if post.pending]:
            if key not in poll.stale and key != maybe_sent:
                self._store.withdraw_intent(poll.tracked.id, key, self._owner)
                poll.posts.pop(key, None)

    def _abandon(self, poll: _Poll, failure: Failure) -> None:
        """The thread cannot be written: stop following the activity, audit it, tell by DM."""
        tracked = poll.tracked
        self._tries.pop(tracked.id, None)
        self._pace.owed.discard(tracked.id)
        log.warning("giving up on the thread of %s: %s", tracked.activity_id, failure.error)
        poll.settle = False
        if not self._store.abandon_thread(
            tracked.id, self._owner, slack_error=failure.error, posted=poll.done.posted
        ):
            return  # another poller has it now
        self._store.audit(
            workspace_id=tracked.workspace_id,
            user_id=tracked.requester_id,
            action="thread_given_up",
            detail=f"activity {tracked.activity_id} in {tracked.channel_id}",
            outcome=f"Slack refused: {failure.error}",
        )
        if failure.error not in WORKSPACE_WIDE:
            self._tell_requester(tracked, failure.error)

    def _tell_requester(self, tracked: TrackedActivity, error: str) -> None:
        """A DM to the requester (at most once: the give-up is recorded before it is sent)."""
        told = messages.thread_lost(tracked, error)
        client = self._client(tracked)
        try:
            answer = client.chat_postMessage(
                channel=tracked.requester_id, text=told.text, blocks=told.blocks
            )
        except Exception as exc:
            log.warning("could not tell %s by DM (%s)", tracked.requester_id, classify(exc).error)
            return
        self._store.note_requester_dm(tracked.id, str(answer["channel"]))

    # ------------------------------------------------------------------ Slack, exactly once
    def _client(self, tracked: TrackedActivity) -> WebClient:
        # Within half a lease: a post starts with at least that much of the lease left.
        return bounded(self._slack.client_for(tracked.workspace_id), self._lease / 2)

    def _thread(self, tracked: TrackedActivity) -> Thread:
        client = self._client(tracked)
        channel = self._conversation(client, tracked)
        read = partial(self._pace.read, tracked.workspace_id)
        return Thread(client, channel, tracked.parent_ts, tracked.activity_id, before_read=read)

    def _conversation(self, client: WebClient, tracked: TrackedActivity) -> str:
        """Where the thread is: an activity started from the App Home names the requester's
        user id, but chat.update and conversations.replies need the DM's `D…` id."""
        if tracked.channel_id[:1] not in ("U", "W"):
            return tracked.channel_id
        if tracked.requester_dm is None:
            opened = client.conversations_open(users=tracked.channel_id)
            dm = str(opened["channel"]["id"])
            self._store.note_requester_dm(tracked.id, dm)
            return dm
        return tracked.requester_dm

    def _reconcile(self, poll: _Poll, thread: Thread, wanted: set[str]) -> None:
        """Settle intents a dead poller left pending: found in the thread, or still wanted."""
        pending = [poll.posts[key] for key in poll.stale if poll.posts[key].pending]
        if not pending:
            return
        reading = self._readbacks.setdefault(
            poll.tracked.id, ReadBack.since(min(post.created_at for post in pending))
        )
        in_thread = thread.posted_states(
            reading, {post.key.removeprefix("state:") for post in pending}
        )
        del self._readbacks[poll.tracked.id]
        for post in pending:
            state = post.key.removeprefix("state:")
            if state in in_thread:
                poll.posted(post.key, in_thread[state])
            elif state not in wanted:
                poll.posts[post.key] = post.model_copy(update={"status": SKIPPED})
                poll.done.skipped.append(post.key)  # out of date: never posted

    def _post_once(
        self, poll: _Poll, thread: Thread, state: str, reply: messages.Message
    ) -> str | None:
        """Post the reply for `state` unless it is posted (or was skipped); answers its ts.

        Its intent is in the store before the post: recorded with the observation when it was
        foreseen, here otherwise. The ts is recorded when the account's polls are settled.
        """
        key = post_key(state)
        post = poll.posts.get(key)
        if post is not None and not post.pending:
            return post.ts
        self._pace.post(poll.tracked.workspace_id, thread.channel)
        if post is None:
            post = poll.posts[key] = self._store.intend_post(poll.tracked.id, key, self._owner)
        self._hold_lease(poll)
        poll.posting = key
        ts = thread.post(state, reply)
        poll.posting = None
        poll.posted(key, ts)
        return ts

    def _hold_lease(self, poll: _Poll) -> None:
        """Post only with half a lease left at least; renew it otherwise (LeaseLost if taken)."""
        now = self._clock.now()
        if poll.lease_until is not None and poll.lease_until - now >= self._half_lease:
            return
        if not self._store.renew_lease(poll.tracked.id, self._owner, self._lease):
            raise LeaseLost(poll.tracked.activity_id)
        poll.lease_until = now + timedelta(seconds=self._lease)

    def _close_parent(self, poll: _Poll, thread: Thread, final: messages.Message) -> None:
        """The parent's last edit; a parent deleted or frozen meanwhile keeps what it says."""
        if not (poll.tracked.parent_updated or poll.done.parent_updated):
            self._pace.update(poll.tracked.workspace_id)
            self._edit(poll, thread, thread.parent_ts, final)
            poll.done.parent_updated = True

    def _owes(self, poll: _Poll) -> bool:
        return poll.refresh or poll.tracked.id in self._pace.owed

    def _edit_progress(
        self, poll: _Poll, thread: Thread, ts: str, message: messages.Message, *, final: bool
    ) -> bool:
        """Show the progress in its reply: True once shown.

        Edits coalesce under Slack's pace: one that must wait is owed, and a later cycle shows
        the progress as it is then (an end is never owed: it defers the thread instead). A
        progress reply that is gone is posted afresh where the thread still takes replies.
        """
        tracked = poll.tracked
        if final:
            self._pace.update(tracked.workspace_id)
        elif not self._pace.may_update(tracked.workspace_id):
            self._pace.owed.add(tracked.id)
            return False
        if not self._edit(poll, thread, ts, message):
            self._pace.post(tracked.workspace_id, thread.channel)
            poll.posted(post_key(PROGRESS), thread.post(PROGRESS, message))
        self._pace.owed.discard(tracked.id)
        return True

    def _edit(self, poll: _Poll, thread: Thread, ts: str, message: messages.Message) -> bool:
        """Edit message `ts`: False when it is gone or frozen (its edits end there)."""
        try:
            thread.edit(ts, message)
        except SlackApiError as exc:
            failure = classify(exc)
            if failure.outcome is not Outcome.GONE:
                raise
            log.warning(
                "message %s of %s: %s; no more edits", ts, poll.tracked.activity_id, failure.error
            )
            return False
        return True

    # ------------------------------------------------------------------ timing
    def _interval(self, tracked: TrackedActivity, seen: Observation, changed: bool) -> float:
        if tracked.poll_count == 0:
            return self._base
        if changed and seen.state == ActivityState.PROCESSING:
            eta = self._eta(tracked, seen)
            return self._base if eta is None else max(self._min, min(self._base, eta))
        if changed:
            return self._base
        return min(self._max, max(self._base, tracked.poll_interval) * BACKOFF)

    def _eta(self, tracked: TrackedActivity, seen: Observation) -> float | None:
        """Seconds until 100% at the pace since the last poll, if it is moving."""
        before, now = tracked.percent_done or 0, seen.percent_done or 0
        elapsed = (self._clock.now() - tracked.updated_at).total_seconds()
        if now <= before or elapsed <= 0:
            return None
        return (100 - now) * elapsed / (now - before)

    def _too_old(self, tracked: TrackedActivity) -> bool:
        return self._clock.now() - tracked.created_at > self._max_age

    def _at(self, seconds: float) -> datetime:
        return self._clock.now() + timedelta(seconds=seconds)
