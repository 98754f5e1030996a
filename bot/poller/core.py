"""The poller: follows every tracked activity to its end and tells its Slack thread.

Constant Contact has no webhooks for activities, so the poller asks. Per cycle it leases the
due activities (and the other free ones of the same workspaces), makes one
`GET /v3/activities` per account that covers them all, and `GET /v3/activities/{id}` only for
those the list does not show. Each activity's next poll adapts: soon while it is moving
(sooner still when its progress says it is about to finish), backing off while nothing
changes or Constant Contact is failing, and none at all once nothing is in flight.

Exactly once: see bot/poller/thread.py. Replies are keyed per activity (`progress`,
`state:<state>`); an intent is stored before each chat.postMessage and confirmed with the ts
after, and a pending intent found on recovery is first looked up in the thread. Rows are
leased (SELECT ... FOR UPDATE SKIP LOCKED), the lease is renewed before every post, and a dead
poller's lease expires, so several pollers never post the same reply twice and a killed one
loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.cc.client import AccountClient
from bot.cc.errors import CCError, NotFound
from bot.cc.models import Activity, ActivityState
from bot.clock import Clock
from bot.poller import messages
from bot.poller.thread import PROGRESS, Thread, post_key
from bot.ports import Accounts, SlackClients
from bot.store import Observation, SlackPost, Store, TrackedActivity

log = logging.getLogger(__name__)

BACKOFF = 1.5
OUTAGE_BACKOFF = 2.0
MAX_LIST_LIMIT = 500
MIN_LIST_LIMIT = 50
_Work = Callable[[], None]
TERMINAL = {state.value for state in ActivityState if state.is_terminal}


Posts = dict[str, SlackPost]
PROGRESS_STEP = 10  # percent: the progress reply is edited when it crosses a step (Slack's rate)


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
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._slack = slack
        self._clock = clock
        self._owner = owner
        self._base = base_interval
        self._max = max_interval
        self._min = min(1.0, base_interval) if min_interval is None else min_interval
        self._lease = lease_seconds
        self._max_age = max_age

    # ------------------------------------------------------------------ cycles
    def run_once(self) -> float:
        """One cycle; answers the seconds until the next one is worth running."""
        claimed = self._store.claim_due(self._owner, self._lease)
        for client, rows in self._by_account(claimed):
            if client is None:
                for tracked in rows:
                    self._unreachable(tracked)
            else:
                self._follow_account(client, rows)
        return self._seconds_to_next()

    def run_forever(self, stop: threading.Event) -> None:
        """Cycle until `stop` is set; a cycle under way finishes first, so nothing is lost."""
        while not stop.is_set():
            try:
                wait = self.run_once()
            except Exception:
                log.exception("poll cycle failed; leases expire and the next cycle resumes")
                wait = self._base
            stop.wait(wait)

    def _seconds_to_next(self) -> float:
        due = self._store.next_due_at()
        if due is None:
            return self._base  # nothing in flight: only the database is asked
        wait = (due - self._clock.now()).total_seconds()
        return min(max(wait, 0.0), self._base)

    def _by_account(
        self, claimed: Iterable[TrackedActivity]
    ) -> list[tuple[AccountClient | None, list[TrackedActivity]]]:
        """Workspaces that share one account share its single list call."""
        groups: dict[int, tuple[AccountClient | None, list[TrackedActivity]]] = {}
        for tracked in claimed:
            client = self._accounts.client_for(tracked.workspace_id)
            groups.setdefault(id(client), (client, []))[1].append(tracked)
        return list(groups.values())

    # ------------------------------------------------------------------ Constant Contact
    def _follow_account(self, client: AccountClient, rows: list[TrackedActivity]) -> None:
        limit = min(MAX_LIST_LIMIT, max(MIN_LIST_LIMIT, 2 * len(rows) + MIN_LIST_LIMIT))
        try:
            listed = {a.activity_id: a for a in client.list_activities(limit=limit)}
        except CCError as exc:
            log.warning("listing activities failed (%s); keeping state and backing off", exc)
            for tracked in rows:
                self._unreachable(tracked)
            return
        for tracked in rows:
            activity = listed.get(tracked.activity_id)
            if activity is None:
                activity = self._fetch_one(client, tracked)
            if activity is not None:
                self._follow(tracked, activity)

    def _fetch_one(self, client: AccountClient, tracked: TrackedActivity) -> Activity | None:
        try:
            return client.get_activity(tracked.activity_id)
        except NotFound:
            log.warning("activity %s is gone from Constant Contact", tracked.activity_id)
            self._give_up(tracked)
        except CCError as exc:
            log.warning("reading activity %s failed (%s)", tracked.activity_id, exc)
            self._unreachable(tracked)
        return None

    def _unreachable(self, tracked: TrackedActivity) -> None:
        """Constant Contact (or the account) cannot be asked now: keep state, ask later."""
        if self._too_old(tracked):
            self._give_up(tracked)
            return
        interval = min(self._max, max(self._base, tracked.poll_interval) * OUTAGE_BACKOFF)
        self._store.release(tracked.id, self._owner, self._at(interval))

    # ------------------------------------------------------------------ one activity
    def _follow(self, tracked: TrackedActivity, activity: Activity) -> None:
        seen = observation(activity)
        changed = _changed(tracked, seen)
        interval = self._interval(tracked, seen, changed)
        posts = {post.key: post for post in self._store.posts(tracked.id)}
        quiet = not changed and _settled(tracked, posts) and not self._too_old(tracked)
        current = self._store.observe(
            tracked.id,
            self._owner,
            seen,
            next_poll_at=self._at(interval),
            poll_interval=interval,
            release=quiet,
        )
        if current is None or quiet:
            return
        if seen.state not in TERMINAL and self._too_old(current):
            self._give_up(current)
            return
        refresh = _shown_progress(tracked) != _shown_progress(current)
        self._guarded(current, lambda: self._publish(current, posts, refresh))

    def _publish(self, tracked: TrackedActivity, posts: Posts, refresh: bool) -> None:
        thread = self._thread(tracked)
        terminal = tracked.state in TERMINAL
        self._reconcile(tracked, thread, posts, wanted={PROGRESS, tracked.state})
        self._show_progress(tracked, thread, posts, refresh=refresh or terminal)
        if tracked.state != ActivityState.INITIALIZED:
            reply = messages.state_reply(tracked, self._clock.now())
            self._post_once(tracked, thread, posts, tracked.state, reply)
        if not terminal:
            self._store.release(tracked.id, self._owner)
            return
        self._close_parent(tracked, thread, messages.parent_final(tracked, gave_up=False))
        self._store.finish(tracked.id, self._owner)

    def _give_up(self, tracked: TrackedActivity) -> None:
        def give_up() -> None:
            thread = self._thread(tracked)
            posts = {post.key: post for post in self._store.posts(tracked.id)}
            self._reconcile(tracked, thread, posts, wanted={messages.GIVEN_UP})
            reply = messages.given_up(tracked, self._max_age)
            self._post_once(tracked, thread, posts, messages.GIVEN_UP, reply)
            self._close_parent(tracked, thread, messages.parent_final(tracked, gave_up=True))
            self._store.finish(tracked.id, self._owner, gave_up=True)

        self._guarded(tracked, give_up)

    def _guarded(self, tracked: TrackedActivity, work: _Work) -> None:
        """Run Slack work; on Slack errors keep the row and reschedule (429: after Retry-After)."""
        try:
            work()
        except LeaseLost:
            log.warning("lost the lease on %s to another poller", tracked.activity_id)
        except SlackApiError as exc:
            self._store.release(tracked.id, self._owner, self._at(self._slack_delay(exc)))
            log.warning("Slack refused (%s) for %s", exc.response.get("error"), tracked.activity_id)

    def _slack_delay(self, exc: SlackApiError) -> float:
        if exc.response.status_code == 429:
            retry_after = exc.response.headers.get("Retry-After", "1")
            try:
                return max(float(retry_after), self._min)
            except ValueError:
                return self._base
        return self._base

    # ------------------------------------------------------------------ Slack, exactly once
    def _thread(self, tracked: TrackedActivity) -> Thread:
        client = self._slack.client_for(tracked.workspace_id)
        return Thread(client, tracked.channel_id, tracked.parent_ts, tracked.activity_id)

    def _reconcile(
        self, tracked: TrackedActivity, thread: Thread, posts: Posts, wanted: set[str]
    ) -> None:
        """Settle intents a dead poller left pending: found in the thread, or still wanted."""
        pending = [post for post in posts.values() if post.pending]
        if not pending:
            return
        in_thread = thread.posted_states()
        for post in pending:
            state = post.key.removeprefix("state:")
            if state in in_thread:
                self._store.confirm_post(tracked.id, post.key, in_thread[state])
            elif state not in wanted:
                self._store.skip_post(tracked.id, post.key)  # out of date: never posted
            else:
                continue
            del posts[post.key]  # settled: read again from the store when needed

    def _post_once(
        self,
        tracked: TrackedActivity,
        thread: Thread,
        posts: Posts,
        state: str,
        reply: messages.Message,
    ) -> str | None:
        """Post the reply for `state` unless it is posted (or was skipped); answers its ts."""
        key = post_key(state)
        known = posts.get(key)
        if known is not None and not known.pending:
            return known.ts
        post = self._store.intend_post(tracked.id, key, self._owner)
        if not post.pending:
            return post.ts
        if not self._store.renew_lease(tracked.id, self._owner, self._lease):
            raise LeaseLost(tracked.activity_id)
        ts = thread.post(state, reply)
        self._store.confirm_post(tracked.id, key, ts)
        return ts

    def _show_progress(
        self, tracked: TrackedActivity, thread: Thread, posts: Posts, refresh: bool
    ) -> None:
        """One progress reply per activity, edited in place as the activity moves."""
        key = post_key(PROGRESS)
        existing = posts.get(key) or self._store.get_post(tracked.id, key)
        reply = messages.progress(tracked)
        if existing is None or existing.pending:
            self._post_once(tracked, thread, posts, PROGRESS, reply)
        elif refresh and existing.ts:
            thread.edit(existing.ts, reply)

    def _close_parent(
        self, tracked: TrackedActivity, thread: Thread, final: messages.Message
    ) -> None:
        if not tracked.parent_updated:
            thread.edit_parent(final)
            self._store.mark_parent_updated(tracked.id, self._owner)

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
