"""The one launcher: a plan of 1..n steps started in order, each step one activity.

A plan of one step is one activity: one parent message, the activity, then tracking. A plan of
several is a job: its steps stored (kind, body, the step each waits for) before any starts,
one parent naming the job, then each step that waits for nothing started (the client's limiter
spaces the calls) and tracked as it starts. A step that waits is started by the poller once
the step it waits for completed (`start_ready`), or ended in words when that step did not.

The first step that starts carries the job's thread: the poller posts the job's progress and
its end through that one row, and the other steps' rows post nothing (bot/poller/core.py).
A step that fails to start stops the launch: the job says which steps did not start, and the
poller's last word tells what to do with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from bot.cc.client import AccountClient
from bot.cc.errors import CCError
from bot.cc.models import (
    Activity,
    ActivityKind,
    ActivityState,
    LimitError,
    ListMembershipRequest,
    TagDeleteRequest,
    TaggingRequest,
    build,
)
from bot.store import NewActivity, Store
from bot.store.jobs import (
    PLANNED,
    SKIPPED,
    WAITING,
    Job,
    JobPart,
    JobStore,
    NewJob,
    StepSpec,
)
from bot.usecases.inputs import Actor
from bot.usecases.outcomes import Refused
from bot.usecases.parent import job_parent, parent_failed, parent_message, shortened
from bot.usecases.plans import Plan, Step
from bot.usecases.ports import Conversation, Message

OUR_SIDE = "something went wrong on our side"
# Starts one step's activity for the launcher, audited (bot/usecases/service.py).
StartStep = Callable[[AccountClient, Step, str], Activity]


@dataclass(frozen=True)
class Launched:
    """A plan once every step that waits for nothing was tried: the job (None for a plan of
    one step), the activities started, and why the rest did not."""

    job: Job | None
    started: tuple[Activity, ...]
    not_started: tuple[int, ...] = ()  # positions
    why: str | None = None


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
    """Starts a plan for one requester, telling them through `conversation`."""

    def __init__(
        self, store: Store, start: StartStep, actor: Actor, conversation: Conversation
    ) -> None:
        self._store = store
        self._jobs = JobStore(store)
        self._start = start
        self._actor = actor
        self._talk = conversation

    def launch(self, account: AccountClient, plan: Plan, channel: str) -> Launched:
        """Started as one activity or as a job; Refused when nothing could start."""
        if plan.is_job:
            return self._launch_job(account, plan, channel)
        return Launched(None, (self._launch_one(account, plan, channel),))

    # ------------------------------------------------------------ one step
    def _launch_one(self, account: AccountClient, plan: Plan, channel: str) -> Activity:
        """One parent message, then the activity, then tracking (the poller does the thread)."""
        user = self._actor.user_id
        ref = self._talk.post_parent(channel, parent_message(user, plan.summary, "starting…"))
        [step] = plan.steps
        try:
            activity = self._start(account, step, plan.summary)
        except Exception as exc:
            self._talk.update_parent(channel, ref, parent_failed(user, plan.summary, _why(exc)))
            raise
        self._track(channel, ref, step.kind, plan.summary, activity)
        shown = parent_message(user, plan.summary, activity.state, activity.activity_id)
        self._talk.update_parent(channel, ref, shown)
        return activity

    # ------------------------------------------------------------ a job
    def _launch_job(self, account: AccountClient, plan: Plan, channel: str) -> Launched:
        """Stored, announced, started step by step; Refused when no step could start."""
        user = self._actor.user_id
        job = self._jobs.create(
            NewJob(
                workspace_id=self._actor.workspace_id,
                channel_id=channel,
                requester_id=user,
                kind=plan.action,
                summary=plan.summary,
                requests=[_dumped(step.body) for step in plan.steps],
                steps=[StepSpec(kind=step.kind.value, after=step.after) for step in plan.steps],
            )
        )
        try:
            ref = self._talk.post_parent(
                channel, job_parent(user, plan.summary, "starting…", job.id)
            )
        except Exception:
            self._jobs.end(job.id)  # nothing started: the job is over before it began
            raise
        self._jobs.set_parent(job.id, channel, ref)
        started, failed_at, why = self._start_steps(account, plan, job, channel, ref)
        self._jobs.launched(job.id)
        if not started:
            self._jobs.end(job.id)
            self._talk.update_parent(
                channel, ref, parent_failed(user, plan.summary, why or OUR_SIDE)
            )
            raise Refused(f"Nothing was started: {why or OUR_SIDE}")
        tried = range(failed_at, len(plan.steps)) if failed_at is not None else ()
        left = tuple(position for position in tried if plan.steps[position].after is None)
        now = [step for step in plan.steps if step.after is None]
        state = "processing" if not left else f"{len(started)} of {len(now)} started"
        self._talk.update_parent(channel, ref, job_parent(user, plan.summary, state, job.id))
        return Launched(job, tuple(started), left, why)

    def _start_steps(
        self, account: AccountClient, plan: Plan, job: Job, channel: str, ref: str
    ) -> tuple[list[Activity], int | None, str | None]:
        started: list[Activity] = []
        for position, step in enumerate(plan.steps):
            if step.after is not None:
                continue  # the poller starts it once the step it waits for completed
            summary = part_summary(plan.summary, position, len(plan.steps))
            self._jobs.starting(job.id, position)  # before the POST: never sent blind
            try:
                activity = self._start(account, step, summary)
            except Exception as exc:
                self._jobs.not_sent(job.id, position)
                return started, position, _why(exc)
            self._jobs.part_started(job.id, position, activity.activity_id, activity.state)
            self._track(
                channel, ref, step.kind, summary, activity, job_id=job.id, carrier=not started
            )
            started.append(activity)
        return started, None, None

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
    return Message(text)


def launched_message(plan: Plan, launched: Launched) -> Message:
    if launched.job is not None:
        return job_started(plan, launched)
    return started(plan, launched.started[0])


# ---------------------------------------------------------------- steps that wait

BODIES: dict[ActivityKind, type[BaseModel]] = {
    ActivityKind.ADD_TAGS: TaggingRequest,
    ActivityKind.REMOVE_TAGS: TaggingRequest,
    ActivityKind.ADD_TO_LISTS: ListMembershipRequest,
    ActivityKind.REMOVE_FROM_LISTS: ListMembershipRequest,
    ActivityKind.DELETE_TAGS: TagDeleteRequest,
}
NOT_COMPLETED = {ActivityState.FAILED, ActivityState.CANCELLED, ActivityState.TIMED_OUT}


def stored_step(job: Job, part: JobPart) -> Step:
    """A stored part as the step it was planned as."""
    kind = ActivityKind(part.kind or job.kind)
    return Step(kind, build(BODIES[kind], part.request), part.after)


def start_ready(store: Store, client: AccountClient, job_id: str, *, launch_over: bool) -> int:
    """Start each waiting step whose step completed; end in words (skipped) each whose step
    did not. `launch_over`: a step never started by now never will. Answers the steps started.
    Called by the poller after it records what the job's steps did."""
    jobs = JobStore(store)
    job = jobs.get(job_id)
    if job is None or job.ended_at is not None:
        return 0
    started = 0
    for part in job.parts:
        if part.state != WAITING or part.after is None:
            continue
        awaited = job.parts[part.after]
        if awaited.state == ActivityState.COMPLETED:
            started += _start_waiting(store, jobs, client, job, part)
        elif (
            awaited.state in NOT_COMPLETED
            or awaited.state == SKIPPED
            or (awaited.state == PLANNED and launch_over)
        ):
            jobs.skip(job.id, part.position)
    return started


def _start_waiting(
    store: Store, jobs: JobStore, client: AccountClient, job: Job, part: JobPart
) -> int:
    if job.parent_ts is None or not jobs.starting(job.id, part.position, was=WAITING):
        return 0  # another poller has it
    step = stored_step(job, part)
    summary = part_summary(job.summary, part.position, len(job.parts))
    try:
        activity = start_step(client, step)
    except (CCError, LimitError) as exc:
        jobs.not_sent(job.id, part.position)
        _audit(store, job, step, summary, f"refused: {exc}")
        return 0
    jobs.part_started(job.id, part.position, activity.activity_id, activity.state)
    store.track_activity(
        NewActivity(
            workspace_id=job.workspace_id,
            channel_id=job.channel_id,
            parent_ts=job.parent_ts,
            requester_id=job.requester_id,
            kind=step.kind.value,
            summary=summary,
            activity_id=activity.activity_id,
            state=activity.state,
            percent_done=activity.percent_done,
            job_id=job.id,
            job_carrier=False,
        )
    )
    _audit(store, job, step, summary, f"started {activity.activity_id}")
    return 1


def _audit(store: Store, job: Job, step: Step, summary: str, outcome: str) -> None:
    store.audit(
        workspace_id=job.workspace_id,
        user_id=job.requester_id,
        action=step.kind.value,
        detail=summary[:2000],
        outcome=outcome[:2000],
    )
