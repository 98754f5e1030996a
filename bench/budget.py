"""Bench: one API key, ten workspaces: today's first-come-first-served limiter beside the fair
budget (bot/cc/budget.py), side by side in one run.

    python -m bench.budget [--seed 7] [--seconds 240]

Ten connected workspaces share one key at 4 requests a second. Workspace 1 runs a
20,000-email job on a cold contact index of 50,000 contacts; workspaces 2-10 each send
interactive commands (a person waiting for `tags`, `create`, a preview) and one 600-email job
on a cold index of 2,000 contacts.

How it runs (honestly): on a simulated clock, so that four minutes of traffic take seconds on
two cores. What is real: the decisions (the fair side calls `bot.cc.budget.decide` itself, the
first-come side is today's database limiter's rule, slot = max(now, next slot), next slot +=
1/(4 x (1 - HEADROOM))); the call counts of each step (the cold-index sync's pages from
`bot.usecases.people.sync_cost`, a job's parts from `bot.usecases.jobs.plan_batches`, which
sync pages run in the background as in `ContactResolver._sync`); and the 429 rule, the
sandbox's own sliding second (`SandboxState.take_rate`) asked at each request's arrival. What is
modelled: each thread of each process is a sequential caller (a sync, a launch, the poller's
listing every 5 s, a person's command), network latency 30-150 ms each way, a thread waking
0-20 ms late, an activity running 20 s once started, a person confirming 3 s after the preview.
A 429 is retried after the limiter holds every caller back 1 s, as CCApi does.

Printed per limiter, pooled over the runs (one per seed): the interactive calls' wait p50/p95
(goal p95 <= 1 s), the small jobs' completion time against the same job alone (goal <= 2x; the
line gives the worst), workspace 1's share of the calls given while others wanted calls too,
Jain's fairness index over the workspaces that want calls (each run: the background calls each
workspace got over its equal part of those given while two or more waited; goal >= 0.9), and
429s (goal 0), then one line per limiter:
`budget: limiter=<name> interactive_p95_s=… small_job_ratio=… jain=… http_429=…`.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.cc.budget import (
    HEADROOM,
    BudgetState,
    Caller,
    Decision,
    Granted,
    Later,
    Limits,
    Priority,
    Spent,
    decide,
    next_reset,
)
from bot.cc.models import MAX_CONTACT_IDS
from bot.devkit.sandbox.state import SandboxState
from bot.usecases.jobs import plan_batches
from bot.usecases.people import sync_cost

RATE = 4.0
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ACTIVITY_SECONDS = 20.0
POLL_SECONDS = 5.0  # the poller's base interval
CONFIRM_SECONDS = 3.0
HOLD_OFF_SECONDS = 1.0
BIG, SMALL = "T01", [f"T{n:02d}" for n in range(2, 11)]


# ------------------------------------------------------------------------------ limiters
class FirstComeFirstServed:
    """Today's limiter (bot/store/ratelimit.py before the budget): the next slot to whoever
    asks first, reserved ahead, whatever the caller."""

    name = "fcfs"

    def __init__(self) -> None:
        self.spacing = 1.0 / (RATE * (1.0 - HEADROOM))
        self.next_slot = 0.0

    def decide(self, caller: Caller, waiter: str, now: float) -> Decision:
        slot = max(now, self.next_slot)
        self.next_slot = slot + self.spacing
        return Granted(slot - now)

    def hold_off(self, until: float) -> None:
        self.next_slot = max(self.next_slot, until)


class Fair:
    """The fair budget: bot.cc.budget.decide on one BudgetState (what the database row holds)."""

    name = "fair"

    def __init__(self) -> None:
        self.limits = Limits(RATE, 10_000, 0.2, HEADROOM)
        self.state = BudgetState(day=START.date().isoformat())
        self.reset = next_reset(START).timestamp()

    def decide(self, caller: Caller, waiter: str, now: float) -> Decision:
        return decide(
            self.state, self.limits, caller, waiter, now, START.date().isoformat(), self.reset
        )

    def hold_off(self, until: float) -> None:
        self.state.next_slot = max(self.state.next_slot, until)


Limiter = FirstComeFirstServed | Fair


# ------------------------------------------------------------------------------ the world
class SimClock:
    """bot.clock.Clock on simulated time: the sandbox's sliding second reads it."""

    def __init__(self) -> None:
        self.t = START.timestamp()

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)


@dataclass
class Call:
    workspace: str
    priority: Priority


@dataclass
class Sleep:
    seconds: float


Step = Call | Sleep
Thread = Generator[Step, None, None]


@dataclass
class Record:
    waits: list[float] = field(default_factory=list)  # people's calls: asked → slot
    grants: list[tuple[float, str, Priority]] = field(default_factory=list)
    pending: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    done: dict[str, float] = field(default_factory=dict)  # job → seconds from request to end
    http_429: int = 0


class World:
    """A discrete-event loop: threads ask the limiter, sleep, and their requests reach a
    server counting the sandbox's sliding second."""

    def __init__(self, limiter: Limiter, seed: int) -> None:
        self.limiter = limiter
        self.random = random.Random(seed)
        self.clock = SimClock()
        self.sandbox = SandboxState(clock=self.clock, contacts=0)
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.record = Record()

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, (when, next(self.seq), action))

    def spawn(self, thread: Thread, when: float) -> None:
        self.at(when, lambda: self._step(thread))

    def run(self, until: float) -> None:
        while self.events and self.events[0][0] <= until:
            when, _, action = heapq.heappop(self.events)
            self.clock.t = when
            action()

    def _step(self, thread: Thread) -> None:
        now = self.clock.t
        try:
            step = next(thread)
        except StopIteration:
            return
        if isinstance(step, Sleep):
            self.spawn(thread, now + step.seconds)
        else:
            waiter = f"w{next(self.seq)}"
            self._ask(thread, step, waiter, asked=now)

    def _late(self) -> float:
        return self.random.uniform(0.0, 0.02)  # a thread wakes a little late

    def _ask(self, thread: Thread, call: Call, waiter: str, asked: float) -> None:
        now = self.clock.t
        self._pending(call.workspace, call.priority, asked, open_=True)
        decision = self.limiter.decide(Caller(call.workspace, call.priority), waiter, now)
        if isinstance(decision, Later):
            until = max(decision.until, now + 0.001) + self._late()
            self.at(until, lambda: self._ask(thread, call, waiter, asked))
        elif isinstance(decision, Spent):
            raise SystemExit(f"the day was spent in a four-minute bench: {decision}")
        else:
            leave = now + decision.wait + (self._late() if decision.wait > 0 else 0.0)
            self.at(leave, lambda: self._send(thread, call, waiter, asked))

    def _send(self, thread: Thread, call: Call, waiter: str, asked: float) -> None:
        now = self.clock.t
        self._pending(call.workspace, call.priority, asked, open_=False)
        self.record.grants.append((now, call.workspace, call.priority))
        if call.priority == Priority.PERSON:
            self.record.waits.append(now - asked)
        arrive = now + self.random.uniform(0.03, 0.15)
        self.at(arrive, lambda: self._arrive(thread, call, waiter, asked))

    def _arrive(self, thread: Thread, call: Call, waiter: str, asked: float) -> None:
        now = self.clock.t
        if not self.sandbox.take_rate("api-key", RATE):
            self.record.http_429 += 1
            self.limiter.hold_off(now + HOLD_OFF_SECONDS)
            back = now + self.random.uniform(0.03, 0.15)
            self.at(back, lambda: self._ask(thread, call, f"w{next(self.seq)}", asked))
            return
        back = now + self.random.uniform(0.03, 0.15)
        self.spawn(thread, back)

    def _pending(self, workspace: str, priority: Priority, asked: float, *, open_: bool) -> None:
        """Background calls asked for and not yet given a slot, for the fairness figures."""
        if priority == Priority.PERSON:
            return
        spans = self.record.pending.setdefault(workspace, [])
        if open_ and (not spans or spans[-1][1] != math.inf or spans[-1][0] != asked):
            spans.append((asked, math.inf))
        elif not open_:
            for n in range(len(spans) - 1, -1, -1):
                if spans[n] == (asked, math.inf):
                    spans[n] = (asked, self.clock.t)
                    break


# ------------------------------------------------------------------------------ the threads
def person(workspace: str, world: World, commands: int) -> Thread:
    """Someone typing commands now and then: each is one call, a person waiting."""
    for _ in range(commands):
        yield Sleep(world.random.uniform(4.0, 14.0))
        yield Call(workspace, Priority.PERSON)


def job(workspace: str, world: World, emails: int, contacts: int, launched: list[float]) -> Thread:
    """A bulk request by emails on a cold index: the preview (the sync's first page for the
    person, the rest of the sync in the background), a confirmation, the parts started in the
    background, then the poller following the account until the parts are done."""
    asked = world.clock.t
    yield Call(workspace, Priority.PERSON)
    for _ in range(sync_cost(contacts) - 1):
        yield Call(workspace, Priority.BACKGROUND)
    yield Sleep(CONFIRM_SECONDS)
    ids = [f"c{n}" for n in range(emails)]
    parts = len(plan_batches(ids, ["tag"], max_sources=MAX_CONTACT_IDS))
    ends: list[float] = []
    for _ in range(parts):
        yield Call(workspace, Priority.BACKGROUND)
        ends.append(world.clock.t + ACTIVITY_SECONDS)
    launched.append(world.clock.t)
    while True:  # the poller lists the account's activities once a cycle
        yield Sleep(POLL_SECONDS)
        yield Call(workspace, Priority.FOLLOW)
        if world.clock.t >= max(ends):
            world.record.done[workspace] = world.clock.t - asked
            return


# ------------------------------------------------------------------------------ figures
def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))]


def jain(values: list[float]) -> float:
    total, squares = sum(values), sum(v * v for v in values)
    return total * total / (len(values) * squares) if squares else 1.0


@dataclass
class Figures:
    """One limiter's figures, pooled over the runs (one run a seed)."""

    name: str
    waits: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    alone: list[float] = field(default_factory=list)
    indices: list[float] = field(default_factory=list)  # Jain's, one a contended window
    big: int = 0  # workspace 1's calls in windows where others want calls too
    contended: int = 0  # every workspace's calls in those windows
    http_429: int = 0
    calls: int = 0

    @property
    def p50(self) -> float:
        return percentile(self.waits, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.waits, 0.95)

    @property
    def jain(self) -> float:
        return statistics.fmean(self.indices) if self.indices else 1.0

    @property
    def big_share(self) -> float:
        return self.big / self.contended if self.contended else 0.0

    def add(self, world: World, alone: float) -> None:
        record = world.record
        self.waits += record.waits
        self.alone.append(alone)
        self.ratios += [record.done[w] / alone for w in SMALL]
        self.http_429 += record.http_429
        self.calls += len(record.grants)
        owed, got = contended_service(record)
        measured = [w for w in owed if owed[w] >= MIN_OWED_CALLS]
        if len(measured) >= 2:
            self.indices.append(jain([got[w] / owed[w] for w in measured]))
        self.big += int(got[BIG])
        self.contended += int(sum(got.values()))


# A workspace counts in Jain's index when it was owed this many calls at least.
MIN_OWED_CALLS = 1.0


def contended_service(record: Record) -> tuple[dict[str, float], dict[str, float]]:
    """Each background call given while two workspaces or more were waiting for one: an equal
    part of it is owed to each of them, and it is got by one. Equal shares of the rate make
    got/owed the same for every workspace (1.0)."""
    spans = [(a, b, w) for w, found in record.pending.items() for a, b in found]
    owed: dict[str, float] = defaultdict(float)
    got: dict[str, float] = defaultdict(float)
    for when, workspace, priority in record.grants:
        if priority == Priority.PERSON:
            continue
        waiting = {w for a, b, w in spans if a < when <= b} | {workspace}
        if len(waiting) < 2:
            continue
        for other in waiting:
            owed[other] += 1 / len(waiting)
        got[workspace] += 1
    return owed, got


def scenario(limiter: Limiter, seed: int, seconds: float) -> World:
    world = World(limiter, seed)
    start = world.clock.t
    launched: list[float] = []
    world.spawn(job(BIG, world, 20_000, 50_000, launched), start)
    for workspace in SMALL:
        begin = start + world.random.uniform(5.0, 60.0)
        world.spawn(job(workspace, world, 600, 2_000, []), begin)
        world.spawn(person(workspace, world, commands=12), start)
    world.run(start + seconds)
    missing = [w for w in SMALL if w not in world.record.done]
    if missing:
        raise SystemExit(f"{limiter.name}: small jobs not done in {seconds} s: {missing}")
    return world


def alone_seconds(make: Callable[[], Limiter], seed: int) -> float:
    world = World(make(), seed)
    world.spawn(job(SMALL[0], world, 600, 2_000, []), world.clock.t)
    world.run(world.clock.t + 600)
    return world.record.done[SMALL[0]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="runs per limiter, pooled")
    parser.add_argument("--seconds", type=float, default=240.0)
    args = parser.parse_args()
    results = []
    for make in (FirstComeFirstServed, Fair):
        pooled = Figures(make.name)
        for seed in range(1, args.seeds + 1):
            world = scenario(make(), seed, args.seconds)
            pooled.add(world, alone_seconds(make, seed))
        results.append(pooled)
    print(f"{args.seeds} runs per limiter, {args.seconds:.0f} simulated seconds each")
    print(f"{'':34}" + "".join(f"{f.name:>12}" for f in results))
    rows: list[tuple[str, Callable[[Figures], str]]] = [
        ("interactive wait p50 (s)", lambda f: f"{f.p50:.2f}"),
        ("interactive wait p95 (s)", lambda f: f"{f.p95:.2f}"),
        ("small job alone (s)", lambda f: f"{statistics.fmean(f.alone):.1f}"),
        ("small job vs alone, mean (x)", lambda f: f"{statistics.fmean(f.ratios):.2f}"),
        ("small job vs alone, worst (x)", lambda f: f"{max(f.ratios):.2f}"),
        ("workspace 1's share, contended", lambda f: f"{f.big_share:.0%}"),
        ("Jain's index, wanting workspaces", lambda f: f"{f.jain:.3f}"),
        ("HTTP 429", lambda f: str(f.http_429)),
        ("calls made", lambda f: str(f.calls)),
    ]
    for label, show in rows:
        print(f"{label:34}" + "".join(f"{show(f):>12}" for f in results))
    for f in results:
        print(
            f"budget: limiter={f.name} interactive_p95_s={f.p95:.2f} "
            f"small_job_ratio={max(f.ratios):.2f} jain={f.jain:.3f} http_429={f.http_429}"
        )


if __name__ == "__main__":
    main()
