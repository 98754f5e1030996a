"""Who a call is for, and the fair-share policy of the API key's budget.

Every caller of one API key shares 4 requests a second and 10,000 a day. The policy here is
pure (a `BudgetState` in, a `Decision` out) so the same code decides inside one process
(`FairLimiter`, in memory) and across processes (bot/store/ratelimit.py, a row per key):

- Nobody reserves a slot ahead: every caller waits in line (a waiter row) and takes a slot only
  when it is free *now*, so slots are spaced from the moment they are really taken (a thread
  waking late for a slot reserved ahead would bunch the next ones inside one of the API's
  seconds). A free slot goes to the best waiter by (priority, its workspace's virtual time,
  arrival): a person waiting (`PERSON`: type-ahead, previews, single calls, confirmations)
  before following activities (`FOLLOW`) before starting job parts, index syncs and rules
  (`BACKGROUND`); people among themselves in arrival order. So a person waits behind at most
  the one background slot already taken. A workspace's virtual
  time grows by one per call, and a workspace that starts waiting again is lifted to the
  least virtual time of those waiting, so it brings no credit from its idle time: the rate
  is shared equally among the workspaces that want calls, an idle one's share goes to them.
- The day: people may spend the whole quota; background work may not touch the part of the
  reserve (`reserve`, 0.2) people have not spent yet. A workspace wanting background calls
  gets an equal share of what the workspaces wanting calls in the last minute have used plus
  what is left (an idle workspace's unused share goes to the others); past it, it waits.

The caller is carried by a context variable (`calling(...)`), set by the request pipeline
(people) and by the poller and the launcher (background), so no call site passes it along.
"""

from __future__ import annotations

import copy
import math
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Protocol

from bot.cc.errors import QuotaExhausted
from bot.clock import SYSTEM_CLOCK, Clock


class Priority(IntEnum):
    """Lower goes first."""

    PERSON = 0  # a person waiting: type-ahead, previews, single calls, confirmations
    FOLLOW = 1  # following activities to their end
    BACKGROUND = 2  # starting job parts, contact index syncs, rules


@dataclass(frozen=True)
class Caller:
    workspace: str
    priority: Priority


NOBODY = ""  # a call made outside any workspace (a token refresh, the CLI)
# Unset: a call made outside any request counts as a person's (nothing background forgets it).
_CALLER: ContextVar[Caller | None] = ContextVar("cctag_caller", default=None)


@contextmanager
def calling(workspace: str, priority: Priority) -> Iterator[None]:
    """Every Constant Contact call made inside is counted for `workspace` at `priority`."""
    token = _CALLER.set(Caller(workspace, priority))
    try:
        yield
    finally:
        _CALLER.reset(token)


@contextmanager
def in_background(priority: Priority = Priority.BACKGROUND) -> Iterator[None]:
    """The current workspace's calls inside become background work (job parts, index syncs)."""
    with calling(current_caller().workspace, priority):
        yield


def current_caller() -> Caller:
    return _CALLER.get() or Caller(NOBODY, Priority.PERSON)


# ------------------------------------------------------------------------------ the state
# A waiter not seen for this long is gone (its process stopped).
STALE_WAITER_SECONDS = 2.0
# A workspace that asked for no background call for this long is idle: it comes back level with
# those waiting, without credit (one thread's gap between two calls is not idleness).
IDLE_SECONDS = 2.0
# A workspace that asked for a call within this long wants calls, for the day's shares.
WANTING_SECONDS = 60.0
# A workspace over its day's share while others want calls tries again after this long.
SHARE_RETRY_SECONDS = 60.0


@dataclass
class Share:
    """One workspace's use of the key today."""

    workspace: str
    calls: int = 0  # every priority
    background: int = 0  # FOLLOW and BACKGROUND
    vtime: float = 0.0  # calls counted for the rate's fair share
    wanted_at: float = 0.0  # seconds since the epoch: last background call asked for


@dataclass
class Waiter:
    id: str
    workspace: str
    priority: int
    since: float
    seen: float


@dataclass
class BudgetState:
    day: str
    next_slot: float = 0.0
    calls: int = 0
    person_calls: int = 0
    shares: dict[str, Share] = field(default_factory=dict)
    waiters: dict[str, Waiter] = field(default_factory=dict)

    def share(self, workspace: str) -> Share:
        if workspace not in self.shares:
            self.shares[workspace] = Share(workspace)
        return self.shares[workspace]


# Slots a little wider than 1/rate: five consecutive calls span 1 s plus this much of it, so a
# call that reaches the API late by less than a quarter second is never a fifth in one second
# (bot/store/ratelimit.py says why and what was measured).
HEADROOM = 0.20


@dataclass(frozen=True)
class Limits:
    rate_per_second: float = 4.0
    daily_quota: int = 10_000
    reserve: float = 0.2  # of the day, kept for people waiting
    headroom: float = HEADROOM

    @property
    def spacing(self) -> float:
        return 1.0 / (self.rate_per_second * (1.0 - self.headroom))

    @property
    def reserved(self) -> int:
        return math.ceil(self.daily_quota * self.reserve)


@dataclass(frozen=True)
class Granted:
    wait: float  # seconds until the slot


@dataclass(frozen=True)
class Later:
    until: float  # seconds since the epoch: ask again then


@dataclass(frozen=True)
class Spent:
    retry_at: float  # seconds since the epoch: worth asking again then
    whose: str  # "key": the key's day; "share": the workspace's share while others want calls


Decision = Granted | Later | Spent


def next_reset(moment: datetime) -> datetime:
    """The next 00:00 UTC after `moment`."""
    day = moment.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class BudgetSpent(QuotaExhausted):
    """No call was made: the key's day (or this workspace's share of it) is spent.

    `retry_at` is when asking again may succeed (00:00 UTC for the key's day; sooner for a
    share, which grows when the others stop wanting calls); `reset_at` is 00:00 UTC."""

    def __init__(self, whose: str, retry_at: datetime, reset_at: datetime) -> None:
        what = (
            "this workspace's share of today's Constant Contact calls is spent while other "
            "workspaces want calls"
            if whose == "share"
            else "today's Constant Contact calls are spent"
        )
        super().__init__(f"{what}; they reset at {reset_at:%H:%M} UTC", error_key=whose)
        self.whose = whose
        self.retry_at = retry_at
        self.reset_at = reset_at


# ------------------------------------------------------------------------------ the policy
def roll_day(state: BudgetState, today: str) -> None:
    if state.day == today:
        return
    state.day, state.calls, state.person_calls = today, 0, 0
    for share in state.shares.values():
        share.calls, share.background = 0, 0


def background_left(state: BudgetState, limits: Limits) -> int:
    """What background work may still spend today: the reserve people have not used is kept."""
    kept = max(limits.reserved - state.person_calls, 0)
    return max(limits.daily_quota - state.calls - kept, 0)


def wanting(state: BudgetState, now: float) -> list[str]:
    """The workspaces that asked for background calls within the last minute."""
    return sorted(
        s.workspace for s in state.shares.values() if now - s.wanted_at <= WANTING_SECONDS
    )


def day_share(state: BudgetState, limits: Limits, workspace: str, now: float) -> int:
    """The workspace's share of today's background calls, among those that want calls now:
    what they used plus what is left, in equal parts (at least what it used already)."""
    names = set(wanting(state, now)) | {workspace}
    used = sum(state.share(name).background for name in names)
    return math.floor((used + background_left(state, limits)) / len(names))


def decide(
    state: BudgetState,
    limits: Limits,
    caller: Caller,
    waiter_id: str,
    now: float,
    today: str,
    reset_at: float,
) -> Decision:
    """One try for one call; the state is changed in place (the slot taken, the call counted,
    the waiter registered or removed)."""
    roll_day(state, today)
    _forget_stale(state, now)
    if state.calls >= limits.daily_quota:
        state.waiters.pop(waiter_id, None)
        return Spent(reset_at, "key")
    if caller.priority != Priority.PERSON:
        spent = _background_spent(state, limits, caller.workspace, now, reset_at)
        if spent is not None:
            state.waiters.pop(waiter_id, None)
            return spent
    _wait_in_line(state, caller, waiter_id, now)
    if state.next_slot > now:
        return Later(state.next_slot)
    if _best_waiter(state) != waiter_id:
        return Later(now + limits.spacing / 2)
    del state.waiters[waiter_id]
    _count(state, limits, caller, now)
    return Granted(0.0)


def _background_spent(
    state: BudgetState, limits: Limits, workspace: str, now: float, reset_at: float
) -> Spent | None:
    share = state.share(workspace)
    if now - share.wanted_at > IDLE_SECONDS:
        _lift(state, workspace)
    share.wanted_at = now
    if background_left(state, limits) <= 0:
        return Spent(reset_at, "key")
    if share.background >= day_share(state, limits, workspace, now):
        return Spent(min(now + SHARE_RETRY_SECONDS, reset_at), "share")
    return None


def _count(state: BudgetState, limits: Limits, caller: Caller, slot: float) -> None:
    state.next_slot = slot + limits.spacing
    state.calls += 1
    share = state.share(caller.workspace)
    share.calls += 1
    if caller.priority == Priority.PERSON:
        state.person_calls += 1
    else:
        share.background += 1
        share.vtime += 1


def _forget_stale(state: BudgetState, now: float) -> None:
    for waiter_id in [w.id for w in state.waiters.values() if now - w.seen > STALE_WAITER_SECONDS]:
        del state.waiters[waiter_id]


def _least_vtime(state: BudgetState, exclude: str) -> float | None:
    times = [
        state.share(w.workspace).vtime
        for w in state.waiters.values()
        if w.workspace != exclude and w.priority != Priority.PERSON
    ]
    return min(times) if times else None


def _lift(state: BudgetState, workspace: str) -> None:
    """Back from idle: no credit for the time nobody here wanted calls."""
    floor = _least_vtime(state, exclude=workspace)
    share = state.share(workspace)
    if floor is not None:
        share.vtime = max(share.vtime, floor)


def _wait_in_line(state: BudgetState, caller: Caller, waiter_id: str, now: float) -> None:
    waiter = state.waiters.get(waiter_id)
    if waiter is not None:
        waiter.seen = now
        return
    state.waiters[waiter_id] = Waiter(waiter_id, caller.workspace, caller.priority, now, now)


def _best_waiter(state: BudgetState) -> str:
    """People in arrival order; background work by its workspace's virtual time."""

    def order(w: Waiter) -> tuple[int, float, float, str]:
        vtime = state.share(w.workspace).vtime if w.priority != Priority.PERSON else 0.0
        return (w.priority, vtime, w.since, w.id)

    return min(state.waiters.values(), key=order).id


# ------------------------------------------------------------------------------ limiters
class StateHolder(Protocol):
    """Where the key's BudgetState lives: `open()` yields it locked, and keeps what was changed."""

    def open(self) -> AbstractContextManager[BudgetState]: ...


# Bounds the tries of one call: a background caller asks again at most twice a slot.
MAX_TRIES = 100_000


@dataclass(frozen=True)
class BudgetView:
    """What `/cctag budget`, the App Home and the metrics show (read-only)."""

    workspace_calls: int  # every priority, today
    workspace_background: int  # of which background work (following, job parts, syncs)
    workspace_share: int  # its share of today's background calls, among those wanting calls
    workspaces_wanting: int  # workspaces sharing the day now (this one included)
    key_calls: int
    key_left: int
    people_kept: int  # of what the key has left, kept for people waiting
    reset_at: datetime

    @property
    def workspace_left(self) -> int:
        """Background calls this workspace may still make today, as things stand."""
        left_in_share = max(self.workspace_share - self.workspace_background, 0)
        return min(left_in_share, max(self.key_left - self.people_kept, 0))


def read_budget(limiter: object, workspace: str) -> BudgetView | None:
    """The budget as `workspace` sees it, when the limiter is a fair one (read-only, no call)."""
    return limiter.view(workspace) if isinstance(limiter, SharedBudget) else None


class SharedBudget:
    """bot.cc.ports.RateLimiter over any StateHolder: the loop around `decide`."""

    def __init__(self, holder: StateHolder, limits: Limits, clock: Clock = SYSTEM_CLOCK) -> None:
        self._holder = holder
        self.limits = limits
        self._clock = clock

    @property
    def calls_left_today(self) -> int:
        """What is left of today's quota across every caller (read-only: takes no slot)."""
        state = self._peek()
        return max(self.limits.daily_quota - state.calls, 0)

    def view(self, workspace: str) -> BudgetView:
        state = self._peek()
        moment = self._clock.now()
        share = state.shares.get(workspace, Share(workspace))
        now = moment.timestamp()
        return BudgetView(
            workspace_calls=share.calls,
            workspace_background=share.background,
            workspace_share=day_share(state, self.limits, workspace, now),
            workspaces_wanting=len(set(wanting(state, now)) | {workspace}),
            key_calls=state.calls,
            key_left=max(self.limits.daily_quota - state.calls, 0),
            people_kept=max(self.limits.reserved - state.person_calls, 0),
            reset_at=next_reset(moment),
        )

    def acquire(self) -> None:
        """Wait for this caller's slot; BudgetSpent (no call made) when the day is spent."""
        caller = current_caller()
        waiter_id = uuid.uuid4().hex
        try:
            for _ in range(MAX_TRIES):
                decision = self._try(caller, waiter_id)
                if isinstance(decision, Granted):
                    if decision.wait > 0:
                        self._clock.sleep(decision.wait)
                    return
                if isinstance(decision, Spent):
                    raise self._spent(decision)
                self._clock.sleep(max(decision.until - self._clock.now().timestamp(), 0.001))
        except BaseException:
            self._leave(waiter_id)
            raise
        raise BudgetSpent("key", next_reset(self._clock.now()), next_reset(self._clock.now()))

    def hold_off(self, seconds: float) -> None:
        """After a 429 throttled, keep every caller of this key back for `seconds`."""
        now = self._clock.now().timestamp()
        with self._holder.open() as state:
            state.next_slot = max(state.next_slot, now + seconds)

    def spent_today(self) -> None:
        """Constant Contact said the day is spent (429 quota_exceeded): count it so."""
        today = self._clock.now().date().isoformat()
        with self._holder.open() as state:
            roll_day(state, today)
            state.calls = max(state.calls, self.limits.daily_quota)

    def _try(self, caller: Caller, waiter_id: str) -> Decision:
        with self._holder.open() as state:
            moment = self._clock.now()  # once the lock is had: the slot is now, not before
            return decide(
                state,
                self.limits,
                caller,
                waiter_id,
                moment.timestamp(),
                moment.date().isoformat(),
                next_reset(moment).timestamp(),
            )

    def _leave(self, waiter_id: str) -> None:
        with self._holder.open() as state:
            state.waiters.pop(waiter_id, None)

    def _peek(self) -> BudgetState:
        with self._holder.open() as state:
            roll_day(state, self._clock.now().date().isoformat())
            return copy.deepcopy(state)

    def _spent(self, decision: Spent) -> BudgetSpent:
        moment = self._clock.now()
        retry = datetime.fromtimestamp(decision.retry_at, UTC)
        return BudgetSpent(decision.whose, retry, next_reset(moment))


class MemoryState:
    """A StateHolder for one process."""

    def __init__(self, today: str) -> None:
        self._state = BudgetState(day=today)
        self._lock = threading.Lock()

    @contextmanager
    def open(self) -> Iterator[BudgetState]:
        with self._lock:
            yield self._state


def fair_limiter(
    rate_per_second: float = 4.0,
    daily_quota: int = 10_000,
    reserve: float = 0.2,
    clock: Clock = SYSTEM_CLOCK,
    headroom: float = HEADROOM,
) -> SharedBudget:
    """The fair budget inside one process (the shell, the stand-in stack, tests)."""
    limits = Limits(rate_per_second, daily_quota, reserve, headroom)
    return SharedBudget(MemoryState(clock.now().date().isoformat()), limits, clock)
