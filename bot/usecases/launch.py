"""Starting a job: its parts stored before any starts, one parent message naming the job, then
each activity started (the client's limiter spaces the calls) and tracked as it starts.

The first part that starts carries the job's thread: the poller posts the job's progress and
its end through that one row, and the other parts' rows post nothing (bot/poller/core.py).
A part that fails to start stops the launch: the job says which parts did not start, and the
poller's last word tells what to do with them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bot.cc.client import AccountClient
from bot.cc.models import Activity
from bot.store import NewActivity
from bot.store.jobs import Job, JobStore, NewJob
from bot.usecases.inputs import Actor
from bot.usecases.outcomes import Refused
from bot.usecases.parent import job_parent, parent_failed, shortened
from bot.usecases.plans import Plan
from bot.usecases.ports import Conversation, Message
from bot.usecases.service import Operations
from bot.usecases.undo.record import record_change

OUR_SIDE = "something went wrong on our side"


@dataclass(frozen=True)
class Launched:
    """A job once every part was tried: the activities started, and why the rest did not."""

    job: Job
    started: tuple[Activity, ...]
    not_started: tuple[int, ...] = ()  # positions
    why: str | None = None


def activities(count: int) -> str:
    return f"{count:,} activit" + ("y" if count == 1 else "ies")


def part_summary(plan: Plan, position: int) -> str:
    return f"{plan.summary} (part {position + 1} of {len(plan.parts)})"


def _why(exc: Exception) -> str:
    return exc.message if isinstance(exc, Refused) else OUR_SIDE


class JobLauncher:
    def __init__(self, ops: Operations, actor: Actor, conversation: Conversation) -> None:
        self._ops = ops
        self._jobs = JobStore(ops.store)
        self._actor = actor
        self._talk = conversation

    def launch(self, account: AccountClient, plan: Plan, channel: str) -> Launched:
        """Stored, announced, started part by part; Refused when no part could start."""
        user = self._actor.user_id
        job = self._jobs.create(
            NewJob(
                workspace_id=self._actor.workspace_id,
                channel_id=channel,
                requester_id=user,
                kind=plan.kind.value,
                summary=plan.summary,
                requests=[part.model_dump(mode="json", exclude_none=True) for part in plan.parts],
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
        started, failed_at, why = self._start_parts(account, plan, job, channel, ref)
        self._jobs.launched(job.id)
        if not started:
            self._jobs.end(job.id)
            self._talk.update_parent(
                channel, ref, parent_failed(user, plan.summary, why or OUR_SIDE)
            )
            raise Refused(f"Nothing was started: {why or OUR_SIDE}")
        left = tuple(range(failed_at, len(plan.parts))) if failed_at is not None else ()
        state = "processing" if not left else f"{len(started)} of {len(plan.parts)} started"
        self._talk.update_parent(channel, ref, job_parent(user, plan.summary, state, job.id))
        return Launched(job, tuple(started), left, why)

    def _start_parts(
        self, account: AccountClient, plan: Plan, job: Job, channel: str, ref: str
    ) -> tuple[list[Activity], int | None, str | None]:
        started: list[Activity] = []
        try:  # what an undo needs, before anything starts
            record_change(self._ops, self._actor, account, plan, channel, ref, job_id=job.id)
        except Exception as exc:
            return started, 0, _why(exc)
        for position, request in enumerate(plan.parts):
            part = dataclasses.replace(plan, request=request, requests=())
            try:
                activity = self._ops.start(self._actor, account, part)
            except Exception as exc:
                return started, position, _why(exc)
            self._jobs.part_started(job.id, position, activity.activity_id, activity.state)
            self._track(plan, job, position, channel, ref, activity, carrier=not started)
            started.append(activity)
        return started, None, None

    def _track(
        self,
        plan: Plan,
        job: Job,
        position: int,
        channel: str,
        ref: str,
        activity: Activity,
        *,
        carrier: bool,
    ) -> None:
        self._ops.store.track_activity(
            NewActivity(
                workspace_id=self._actor.workspace_id,
                channel_id=channel,
                parent_ts=ref,
                requester_id=self._actor.user_id,
                kind=plan.kind.value,
                summary=part_summary(plan, position),
                activity_id=activity.activity_id,
                state=activity.state,
                percent_done=activity.percent_done,
                job_id=job.id,
                job_carrier=carrier,
            )
        )


def job_started(plan: Plan, launched: Launched) -> Message:
    job_id = launched.job.id
    count = activities(len(plan.parts))
    text = (
        f"Started job `{job_id}`: {shortened(plan.summary)}, as {count}; its progress follows "
        "in the channel thread."
    )
    if launched.not_started:
        parts = ", ".join(str(position + 1) for position in launched.not_started)
        why = launched.why or OUR_SIDE
        text += (
            f"\n:warning: Part {parts} of {len(plan.parts)} did not start ({shortened(why)}). "
            f"The {len(launched.started)} started follow in the thread; run the request again "
            "later for the contacts of the parts not started (contacts tagged already stay so)."
        )
    return Message(text)
