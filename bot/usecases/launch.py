"""The one launcher: a plan of 1..n steps started in order, each step one activity.

A plan of one step is one activity: one parent message, the activity, then tracking. A plan of
several is a job: its steps stored (kind, body, the step each waits for) before any starts,
one parent naming the job, then each step that waits for nothing started (the client's limiter
spaces the calls) and tracked as it starts. A step that waits is started by the poller once
the step it waits for completed (`resume.start_ready`), or ended in words when it did not;
a plan whose launcher is gone, or whose step is in doubt, is settled by `resume.settle`.

The first step that starts carries the job's thread: the poller posts the job's progress and
its end through that one row, and the other steps' rows post nothing (bot/poller/core.py).
A step that fails to start stops the launch: the job says which steps did not start, and the
poller's last word tells what to do with them. A step the day's budget refuses (ours, or
Constant Contact's own 429 quota_exceeded) once a step has started is no failure: it and the
steps after it are parked until the budget may allow them (`not_before`), the thread says so
once, and the worker starts them then (`resume.start_parked`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel

from bot.cc.budget import BudgetSpent, in_background
from bot.cc.client import AccountClient
from bot.cc.errors import AmbiguousActivity, StartInDoubt
from bot.cc.models import (
    Activity,
    ActivityKind,
    ListMembershipRequest,
    TagDeleteRequest,
    TaggingRequest,
)
from bot.store import NewActivity, Store
from bot.store.jobs import (
    UNKNOWN,
    Job,
    JobStore,
    NewJob,
    StepSpec,
)
from bot.store.records import RecordStore
from bot.usecases.inputs import Actor
from bot.usecases.outcomes import Refused
from bot.usecases.parent import job_parent, parent_failed, parent_message, shortened
from bot.usecases.plans import Plan, Step
from bot.usecases.ports import Conversation, Message

OUR_SIDE = "something went wrong on our side"
# How long a launcher holds its plan without a word: past it, the next process takes over.
LAUNCH_LEASE = 60.0
# Longer than any request could still be travelling (the client's 10 s timeout, a rate
# limiter's wait before it, and the API's own hold): a step in doubt is settled from
# Constant Contact's list only after this, and sent again only when the list shows nothing.
IN_FLIGHT_WINDOW = timedelta(seconds=45)
CLOCK_SKEW = timedelta(seconds=5)  # how far Constant Contact's clock may be behind ours
RECENT_ACTIVITIES = 50  # read to settle steps in doubt (newest first)
MAX_ATTEMPTS = 2  # sends of one step: past them, it is not started, said in words
IN_DOUBT = (
    "unknown: Constant Contact did not answer in time; cctag checks its activity list and "
    "says what happened in the thread"
)
# Starts one step's activity for the launcher, audited (bot/usecases/service.py).
StartStep = Callable[[AccountClient, Step, str], Activity]
# Records what an undo of the plan needs, before its first step starts
# (bot/usecases/undo/record.py): (account, plan, channel, parent, job id or None) → the
# record's id, or None when the plan needs none.
RecordChange = Callable[[AccountClient, Plan, str, str, str | None], str | None]


@dataclass(frozen=True)
class Launched:
    """A plan once every step that waits for nothing was tried: the job (None for a plan of
    one step that started), the activities started, the steps not started and why, and the
    steps sent but unanswered (settled from Constant Contact's list later)."""

    job: Job | None
    started: tuple[Activity, ...]
    not_started: tuple[int, ...] = ()  # positions
    why: str | None = None
    in_doubt: tuple[int, ...] = ()
    parked: tuple[int, ...] = ()  # positions waiting for the day's budget
    spent: BudgetSpent | None = None  # why they wait, and until when


@dataclass(frozen=True)
class Doubt:
    """A step sent without an answer; `unknown`: Constant Contact's list cannot tell."""

    why: str
    unknown: bool = False


@dataclass(frozen=True)
class Parked:
    """Not sent: the day's budget (or the workspace's share of it) is spent."""

    spent: BudgetSpent
    why: str


def budget_spent(exc: BaseException) -> BudgetSpent | None:
    """The spent day behind a refusal (the use cases keep the API's error as its cause)."""
    cause = exc if isinstance(exc, BudgetSpent) else exc.__cause__
    return cause if isinstance(cause, BudgetSpent) else None


def waiting_until(spent: BudgetSpent) -> str:
    """Until when parked steps wait, in words."""
    if spent.whose == "share":
        return (
            "this workspace's share of the day's Constant Contact calls to free up "
            f"(at the latest {spent.reset_at:%H:%M} UTC, when the budget resets)"
        )
    return f"tomorrow's budget ({spent.reset_at:%H:%M} UTC, when the budget resets)"


def activities(count: int) -> str:
    return f"{count:,} activit" + ("y" if count == 1 else "ies")


def part_summary(summary: str, position: int, parts: int) -> str:
    return f"{summary} (part {position + 1} of {parts})"


def _why(exc: Exception) -> str:
    return exc.message if isinstance(exc, Refused) else OUR_SIDE


def start_step(client: AccountClient, step: Step) -> Activity:
    """POST the step's activity (the one place that knows which call starts which kind)."""
    body: BaseModel = step.body
    if isinstance(body, TaggingRequest):
        if step.kind == ActivityKind.ADD_TAGS:
            return client.add_tags(body)
        return client.remove_tags(body)
    if isinstance(body, ListMembershipRequest):
        if step.kind == ActivityKind.ADD_TO_LISTS:
            return client.add_to_lists(body)
        return client.remove_from_lists(body)
    if isinstance(body, TagDeleteRequest):
        return client.delete_tags(body.tag_ids)
    raise TypeError(f"cannot start {type(body).__name__}")


class Launcher:
    """Starts a plan for one requester, telling them through `conversation`.

    Every plan is stored before anything is sent, each step marked `starting` before its POST:
    a process that dies at any point leaves a record that the next process settles (`settle`).
    A plan of one step, once its activity is tracked, needs no job and is forgotten as one.
    """

    def __init__(
        self,
        store: Store,
        start: StartStep,
        actor: Actor,
        conversation: Conversation,
        record: RecordChange | None = None,
    ) -> None:
        self._record = record
        self._store = store
        self._jobs = JobStore(store)
        self._start = start
        self._actor = actor
        self._talk = conversation

    def launch(self, account: AccountClient, plan: Plan, channel: str) -> Launched:
        """Started as one activity or as a job; Refused when nothing could start."""
        job = self._jobs.create(
            NewJob(
                workspace_id=self._actor.workspace_id,
                channel_id=channel,
                requester_id=self._actor.user_id,
                kind=plan.action,
                summary=plan.summary,
                requests=[_dumped(step.body) for step in plan.steps],
                steps=[StepSpec(kind=step.kind.value, after=step.after) for step in plan.steps],
            ),
            launch_seconds=LAUNCH_LEASE,
        )
        try:
            ref = self._talk.post_parent(channel, self._parent(plan, job, "starting…"))
        except Exception:
            self._jobs.end(job.id)  # nothing started: the plan is over before it began
            raise
        self._jobs.set_parent(job.id, channel, ref)
        record = self._recorded(account, plan, job, channel, ref)
        if plan.is_job:
            return self._launch_job(account, plan, job, channel, ref)
        return self._launch_one(account, plan, job, channel, ref, record)

    def _recorded(
        self, account: AccountClient, plan: Plan, job: Job, channel: str, ref: str
    ) -> str | None:
        """What an undo needs, before anything starts; without it nothing starts."""
        if self._record is None:
            return None
        try:
            return self._record(account, plan, channel, ref, job.id if plan.is_job else None)
        except Exception as exc:
            self._jobs.end(job.id)
            user = self._actor.user_id
            self._talk.update_parent(channel, ref, parent_failed(user, plan.summary, _why(exc)))
            raise

    def _parent(self, plan: Plan, job: Job, state: str) -> Message:
        user = self._actor.user_id
        if plan.is_job:
            return job_parent(user, plan.summary, state, job.id)
        return parent_message(user, plan.summary, state)

    # ------------------------------------------------------------ one step
    def _launch_one(
        self,
        account: AccountClient,
        plan: Plan,
        job: Job,
        channel: str,
        ref: str,
        record: str | None = None,
    ) -> Launched:
        """The activity, then tracking (the poller does the thread); the plan is forgotten
        once its activity is tracked."""
        user = self._actor.user_id
        [step] = plan.steps
        outcome = self._start_step(account, job, 0, step, plan.summary)
        if isinstance(outcome, Activity):
            self._track(channel, ref, step.kind, plan.summary, outcome)
            if record is not None:
                RecordStore(self._store).bind(record, outcome.activity_id)
            self._jobs.forget(job.id)
            shown = parent_message(user, plan.summary, outcome.state, outcome.activity_id)
            self._talk.update_parent(channel, ref, shown)
            return Launched(None, (outcome,))
        if isinstance(outcome, Doubt):
            self._jobs.launched(job.id)
            if outcome.unknown:
                self._jobs.end(job.id)  # nothing the poller can follow: said here, once
            self._talk.update_parent(channel, ref, parent_message(user, plan.summary, IN_DOUBT))
            return Launched(job, (), in_doubt=(0,), why=outcome.why)
        if isinstance(outcome, Parked):  # a person's one change is answered now, in words
            self._jobs.not_sent(job.id, 0)
            outcome = outcome.why
        self._jobs.forget(job.id)
        self._talk.update_parent(channel, ref, parent_failed(user, plan.summary, outcome))
        raise Refused(outcome)

    # ------------------------------------------------------------ a job
    def _launch_job(
        self, account: AccountClient, plan: Plan, job: Job, channel: str, ref: str
    ) -> Launched:
        """Started step by step; Refused when no step could start."""
        user = self._actor.user_id
        started: list[Activity] = []
        doubts: list[int] = []
        why: str | None = None
        failed_at: int | None = None
        parked: list[int] = []
        spent: BudgetSpent | None = None
        for position, step in enumerate(plan.steps):
            if step.after is not None:
                continue  # the poller starts it once the step it waits for completed
            summary = part_summary(plan.summary, position, len(plan.steps))
            with in_background():  # a job's parts are background work in the key's budget
                outcome = self._start_step(account, job, position, step, summary)
            if isinstance(outcome, Activity):
                carrier = not started and not doubts
                self._track(
                    channel, ref, step.kind, summary, outcome, job_id=job.id, carrier=carrier
                )
                started.append(outcome)
            elif isinstance(outcome, Doubt):
                doubts.append(position)
                why = outcome.why
            elif isinstance(outcome, Parked) and (started or doubts):
                parked = self._park(job, plan, position, outcome.spent)
                spent = outcome.spent
                break
            elif isinstance(outcome, Parked):  # nothing started: the person is told now
                self._jobs.not_sent(job.id, position)
                failed_at, why = position, outcome.why
                break
            else:
                failed_at, why = position, outcome
                break
        self._jobs.launched(job.id)
        if not started and not doubts:
            self._jobs.end(job.id)
            self._talk.update_parent(
                channel, ref, parent_failed(user, plan.summary, why or OUR_SIDE)
            )
            raise Refused(f"Nothing was started: {why or OUR_SIDE}")
        tried = range(failed_at, len(plan.steps)) if failed_at is not None else ()
        left = tuple(position for position in tried if plan.steps[position].after is None)
        now = [step for step in plan.steps if step.after is None]
        state = "processing" if not left else f"{len(started)} of {len(now)} started"
        if spent is not None:
            state = (
                f"{len(started)} of {len(now)} started, {len(parked)} waiting for the budget "
                f"(by {spent.reset_at:%H:%M} UTC)"
            )
        self._talk.update_parent(channel, ref, job_parent(user, plan.summary, state, job.id))
        return Launched(job, tuple(started), left, why, tuple(doubts), tuple(parked), spent)

    def _park(self, job: Job, plan: Plan, position: int, spent: BudgetSpent) -> list[int]:
        """The refused step and those after it that wait for no step: parked till the budget
        may allow them (the steps that wait for one start after it, as ever)."""
        rest = [at for at in range(position, len(plan.steps)) if plan.steps[at].after is None]
        self._jobs.park(job.id, rest, spent.retry_at)
        return rest

    def _start_step(
        self, account: AccountClient, job: Job, position: int, step: Step, summary: str
    ) -> Activity | Doubt | Parked | str:
        """The activity; a Doubt (sent, unanswered); Parked (the day's budget refused it, the
        step left `starting` for the caller to park or give back); or why it was refused."""
        # Before the POST: never sent blind; the launcher holds its plan a while longer.
        self._jobs.starting(job.id, position, lease_seconds=LAUNCH_LEASE)
        try:
            activity = self._start(account, step, summary)
        except StartInDoubt as exc:
            return Doubt(exc.message)  # settled from Constant Contact's list later
        except AmbiguousActivity as exc:
            self._jobs.in_doubt(job.id, position, UNKNOWN)
            return Doubt(exc.message, unknown=True)
        except Exception as exc:
            spent = budget_spent(exc)
            if spent is not None:
                return Parked(spent, _why(exc))
            self._jobs.not_sent(job.id, position)
            return _why(exc)
        self._jobs.part_started(job.id, position, activity.activity_id, activity.state)
        return activity

    def _track(
        self,
        channel: str,
        ref: str,
        kind: ActivityKind,
        summary: str,
        activity: Activity,
        *,
        job_id: str | None = None,
        carrier: bool = False,
    ) -> None:
        self._store.track_activity(
            NewActivity(
                workspace_id=self._actor.workspace_id,
                channel_id=channel,
                parent_ts=ref,
                requester_id=self._actor.user_id,
                kind=kind.value,
                summary=summary,
                activity_id=activity.activity_id,
                state=activity.state,
                percent_done=activity.percent_done,
                job_id=job_id,
                job_carrier=carrier,
            )
        )


def _dumped(body: BaseModel) -> dict[str, object]:
    return body.model_dump(mode="json", exclude_none=True)


def started(plan: Plan, activity: Activity) -> Message:
    return Message(
        f"Started: {shortened(plan.summary)}. Activity `{activity.activity_id}` is "
        f"*{activity.state}*; "
        "its progress follows in the channel thread."
    )


def in_doubt(plan: Plan, launched: Launched) -> Message:
    """Sent, unanswered: never "nothing was sent"; what happens next, and what to check."""
    assert launched.job is not None
    return Message(
        f"Constant Contact did not answer in time when cctag started: {shortened(plan.summary)}. "
        "Whether it started is *unknown* for now: cctag asks Constant Contact's activity list "
        "in about a minute and follows it in the channel thread. Do not run it again meanwhile; "
        f"`/cctag status {launched.job.id}` tells where it stands."
    )


def job_started(plan: Plan, launched: Launched) -> Message:
    assert launched.job is not None
    job_id = launched.job.id
    count = activities(len(plan.steps))
    text = (
        f"Started job `{job_id}`: {shortened(plan.summary)}, as {count}; its progress follows "
        "in the channel thread."
    )
    if launched.not_started:
        parts = ", ".join(str(position + 1) for position in launched.not_started)
        why = launched.why or OUR_SIDE
        text += (
            f"\n:warning: Part {parts} of {len(plan.steps)} did not start ({shortened(why)}). "
            f"The {len(launched.started)} started follow in the thread; run the request again "
            "later for the contacts of the parts not started (contacts tagged already stay so)."
        )
    if launched.parked and launched.spent is not None:
        parts = ", ".join(str(position + 1) for position in launched.parked)
        text += (
            f"\n:hourglass: Part {parts} of {len(plan.steps)} wait for "
            f"{waiting_until(launched.spent)}: today's ran out while the job was starting. "
            "They start by themselves then and the thread follows them; nothing needs doing."
        )
    if launched.in_doubt:
        parts = ", ".join(str(position + 1) for position in launched.in_doubt)
        text += (
            f"\n:warning: Part {parts}: Constant Contact did not answer in time, so whether it "
            "started is *unknown* for now; cctag asks its activity list in about a minute and "
            "the thread says what happened. Do not run it again meanwhile."
        )
    return Message(text)


def launched_message(plan: Plan, launched: Launched) -> Message:
    if launched.job is not None and not plan.is_job:
        return in_doubt(plan, launched)
    if launched.job is not None:
        return job_started(plan, launched)
    return started(plan, launched.started[0])
