"""Plans taken up after their launch: a step that waits starts once the step it waits for
completed (`start_ready`), and a plan whose launcher is gone, or whose step is in doubt, is
settled from Constant Contact's activity list (`settle`); a step the day's budget refused
waits, parked, and starts once the budget may allow it (`start_parked`). All three are called
by the poller.

Exactly once: a step is claimed (`starting`, recorded before its POST) by one process only; a
step in doubt is looked for only after IN_FLIGHT_WINDOW, and sent again only when the list
shows nothing then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from bot.cc.budget import BudgetSpent
from bot.cc.client import AccountClient
from bot.cc.errors import AmbiguousActivity, CCError, StartInDoubt
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
    LAUNCHED,
    PARKED,
    PLANNED,
    SKIPPED,
    STARTING,
    UNKNOWN,
    WAITING,
    Job,
    JobPart,
    JobStore,
)
from bot.usecases.launch import (
    CLOCK_SKEW,
    IN_FLIGHT_WINDOW,
    LAUNCH_LEASE,
    MAX_ATTEMPTS,
    RECENT_ACTIVITIES,
    part_summary,
    start_step,
)
from bot.usecases.plans import Step

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
    if job.parent_ts is None:
        return 0
    _send(store, jobs, client, job, part, was=WAITING)
    after = _reread(jobs, job.id).parts[part.position]
    return 1 if after.activity_id else 0


def _audit(store: Store, job: Job, step: Step, summary: str, outcome: str) -> None:
    store.audit(
        workspace_id=job.workspace_id,
        user_id=job.requester_id,
        action=step.kind.value,
        detail=summary[:2000],
        outcome=outcome[:2000],
    )


# ---------------------------------------------------------------- steps parked for the budget


def start_parked(store: Store, client: AccountClient, job_id: str) -> int:
    """Start the job's parked steps whose time has come, in order; when the budget refuses
    again, they wait together for its new time. Answers the steps started. Exactly once: a
    step is claimed (`parked` → `starting`) by one process; one that dies after the claim is
    settled as a step in doubt (`settle`)."""
    jobs = JobStore(store)
    job = jobs.get(job_id)
    if job is None or job.ended_at is not None or job.parent_ts is None:
        return 0
    now = store.clock.now()
    started = 0
    for part in job.parts:
        if part.state != PARKED or part.not_before is None or part.not_before > now:
            continue
        spent = _send(store, jobs, client, _reread(jobs, job_id), part, was=PARKED)
        if spent is not None:
            jobs.park(job_id, parked_positions(_reread(jobs, job_id)), spent.retry_at)
            break
        started += 1 if _reread(jobs, job_id).parts[part.position].activity_id else 0
    return started


def parked_until(job: Job) -> datetime | None:
    """When the job's parked steps may start (None: none is parked)."""
    times = [part.not_before for part in job.parts if part.state == PARKED and part.not_before]
    return max(times) if times else None


def parked_positions(job: Job) -> list[int]:
    return [part.position for part in job.parts if part.state == PARKED]


# ---------------------------------------------------------------- a plan taken over


@dataclass(frozen=True)
class Settled:
    """What taking a plan over came to; `nothing_sent`: its launcher died before its parent
    message, so no step was sent (the requester is told by whoever settled it)."""

    job: Job
    nothing_sent: bool = False
    over: bool = False  # ended with no step started or left to start: told in its thread


def settle(store: Store, client: AccountClient, job_id: str) -> Settled | None:
    """Take over a plan whose launcher is gone, or settle its steps in doubt: a step sent
    without an answer is looked for in Constant Contact's activity list once no request
    could still be travelling (adopted when found, sent again when the list shows nothing,
    `unknown` when it cannot tell); a step started but not tracked is tracked; the steps its
    launcher did not reach are started. None: another process has it, or it is over."""
    jobs = JobStore(store)
    if not jobs.claim_launch(job_id, LAUNCH_LEASE):
        return None
    job = jobs.get(job_id)
    if job is None or job.ended_at is not None:
        return None
    if job.parent_ts is None:  # its steps start only after the parent: none was sent
        jobs.end(job.id)
        return Settled(job, nothing_sent=True)
    launcher_gone = job.state != LAUNCHED
    _settle_doubts(store, jobs, client, job)
    job = _reread(jobs, job_id)
    if _forgotten(store, jobs, job):
        return Settled(job)
    for part in job.parts:
        if part.activity_id and store.get_tracked(job.workspace_id, part.activity_id) is None:
            _track_part(store, job, part)
    if launcher_gone:
        for part in job.parts:
            if part.state == PLANNED and part.after is None and part.attempts < MAX_ATTEMPTS:
                _send(store, jobs, client, _reread(jobs, job_id), part, was=PLANNED)
    # No poll will ever end a plan none of whose steps started: it ends here, once. Until it
    # is ended or launched, the claim's lease stands: a crash before either, and the next
    # process settles it again.
    job = _reread(jobs, job_id)
    if _nothing_to_follow(job):
        for part in job.parts:
            if part.state == WAITING:  # what it waits for never started
                jobs.skip(job_id, part.position)
        return Settled(_reread(jobs, job_id), over=True) if jobs.end(job_id) else None
    jobs.launched(job_id)
    return Settled(_reread(jobs, job_id))


def _nothing_to_follow(job: Job) -> bool:
    """No step started, in doubt or parked: nothing for a poll to follow or to start."""
    return all(
        part.activity_id is None and part.state not in (STARTING, PARKED) for part in job.parts
    )


def _reread(jobs: JobStore, job_id: str) -> Job:
    job = jobs.get(job_id)
    assert job is not None
    return job


def _settle_doubts(store: Store, jobs: JobStore, client: AccountClient, job: Job) -> None:
    now = store.clock.now()
    listed: list[Activity] | None = None
    for part in job.parts:
        if part.state != STARTING:
            continue
        if part.started_at is not None and now - part.started_at < IN_FLIGHT_WINDOW:
            continue  # it may still be travelling: never looked for, never sent again, yet
        if listed is None:
            listed = client.list_activities(limit=RECENT_ACTIVITIES)
        found = _candidates(store, jobs, job, part, listed)
        if len(found) == 1:
            [activity] = found
            jobs.part_started(job.id, part.position, activity.activity_id, activity.state)
        elif found:
            jobs.in_doubt(job.id, part.position, UNKNOWN)
        elif part.attempts >= MAX_ATTEMPTS:
            jobs.in_doubt(job.id, part.position, PLANNED)  # not started, said in words
        else:
            _send(store, jobs, client, job, part, was=STARTING)


def _candidates(
    store: Store, jobs: JobStore, job: Job, part: JobPart, listed: list[Activity]
) -> list[Activity]:
    """Activities created while the step was being sent, of its size, that nothing else
    claims (the list does not say which endpoint started an activity)."""
    assert part.started_at is not None
    since = part.started_at - CLOCK_SKEW
    until = part.started_at + IN_FLIGHT_WINDOW
    expected = _expected_items(job, part)
    return [
        activity
        for activity in listed
        if activity.created_at is not None
        and since <= activity.created_at <= until
        and _items_fit(activity, expected)
        and store.get_tracked(job.workspace_id, activity.activity_id) is None
        and jobs.job_of_activity(activity.activity_id) is None
    ]


def _expected_items(job: Job, part: JobPart) -> int | None:
    """How many items Constant Contact counts for the step, when its body says."""
    kind = ActivityKind(part.kind or job.kind)
    if kind == ActivityKind.DELETE_TAGS:
        return len(part.request.get("tag_ids", []))
    source = part.request.get("source")
    ids = source.get("contact_ids") if isinstance(source, dict) else None
    return len(ids) if isinstance(ids, list) else None


def _items_fit(activity: Activity, expected: int | None) -> bool:
    total = activity.status.items_total_count if activity.status else None
    return expected is None or total is None or total == expected


def _forgotten(store: Store, jobs: JobStore, job: Job) -> bool:
    """A plan of one step whose activity is tracked on its own already: no job to follow."""
    [part, *more] = job.parts
    if more or not part.activity_id:
        return False
    tracked = store.get_tracked(job.workspace_id, part.activity_id)
    if tracked is None or tracked.job_id is not None:
        return False
    jobs.forget(job.id)
    return True


def _send(
    store: Store, jobs: JobStore, client: AccountClient, job: Job, part: JobPart, *, was: str
) -> BudgetSpent | None:
    """Send a step (recorded as starting first); a refusal leaves it not started, and the
    day's budget spent parks it till the budget may allow it (answered, so the caller can
    stop asking)."""
    if not jobs.starting(job.id, part.position, was=was):
        return None
    step = stored_step(job, part)
    summary = _part_summary(job, part)
    try:
        activity = start_step(client, step)
    except BudgetSpent as spent:  # ours or Constant Contact's 429 quota_exceeded: not sent
        jobs.park(job.id, [part.position], spent.retry_at)
        return spent
    except StartInDoubt:
        return None  # in doubt again: settled after the window
    except AmbiguousActivity:
        jobs.in_doubt(job.id, part.position, UNKNOWN)
        return None
    except (CCError, LimitError) as exc:
        jobs.not_sent(job.id, part.position)
        _audit(store, job, step, summary, f"refused: {exc}")
        return None
    jobs.part_started(job.id, part.position, activity.activity_id, activity.state)
    _audit(store, job, step, summary, f"started {activity.activity_id}")
    _track_part(store, _reread(jobs, job.id), _reread(jobs, job.id).parts[part.position])
    return None


def _part_summary(job: Job, part: JobPart) -> str:
    if len(job.parts) == 1:
        return job.summary
    return part_summary(job.summary, part.position, len(job.parts))


def _track_part(store: Store, job: Job, part: JobPart) -> None:
    """Followed as a part of its job; the first tracked carries the job's thread."""
    assert part.activity_id is not None and job.parent_ts is not None
    carrier = not any(tracked.job_carrier for tracked in store.tracked_of_job(job.id))
    store.track_activity(
        NewActivity(
            workspace_id=job.workspace_id,
            channel_id=job.channel_id,
            parent_ts=job.parent_ts,
            requester_id=job.requester_id,
            kind=stored_step(job, part).kind.value,
            summary=_part_summary(job, part),
            activity_id=part.activity_id,
            state=part.state,
            percent_done=part.percent_done,
            job_id=job.id,
            job_carrier=carrier,
        )
    )
