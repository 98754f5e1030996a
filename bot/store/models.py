"""What the store takes and gives: plain pydantic models, never sessions or rows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class NewActivity(BaseModel):
    """An activity just started from Slack, to be followed to its end in its thread."""

    workspace_id: str
    channel_id: str
    parent_ts: str
    requester_id: str
    kind: str
    summary: str
    activity_id: str
    state: str = "initialized"
    percent_done: int | None = None
    job_id: str | None = None  # a part of this job (bot/store/jobs.py)
    job_carrier: bool = False  # the part whose row posts the job's thread


class TrackedActivity(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    workspace_id: str
    channel_id: str
    parent_ts: str
    progress_ts: str | None
    requester_id: str
    kind: str
    summary: str
    activity_id: str
    state: str
    percent_done: int | None
    items_total_count: int | None
    items_completed_count: int | None
    list_count: int | None
    activity_errors: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    gave_up: bool
    parent_updated: bool
    next_poll_at: datetime
    poll_interval: float
    poll_count: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    slack_error: str | None = None  # the Slack error the poller gave up on the thread for
    requester_dm: str | None = None  # the `D…` id the requester was told in
    job_id: str | None = None
    job_carrier: bool = False

    @property
    def finished(self) -> bool:
        return self.ended_at is not None


class Observation(BaseModel):
    """What one status read of Constant Contact said about an activity."""

    state: str
    percent_done: int | None = None
    items_total_count: int | None = None
    items_completed_count: int | None = None
    list_count: int | None = None
    activity_errors: list[str] = Field(default_factory=list)


class Poll(BaseModel):
    """One activity's poll to record: what was seen, when to look again, what is about to be said.

    `intents` are the keys of the replies about to be posted (stored `pending` unless present);
    `release` lets go of the lease at once (nothing left to post).
    """

    tracked_id: int
    seen: Observation
    next_poll_at: datetime
    poll_interval: float
    release: bool = False
    intents: list[str] = Field(default_factory=list)


class Settlement(BaseModel):
    """How one activity's Slack work ended, recorded at once for all of an account's activities.

    `posted` (key → ts) confirms intents and `skipped` settles out-of-date ones, whoever holds the
    lease; the rest needs the lease: the parent marked updated, then either `finish`, or the
    lease let go (`release`, with `next_poll_at` if set), or kept until `next_poll_at` (`hold`:
    a deferred thread is claimed by no one, with its workspace's others or alone, before then).
    """

    tracked_id: int
    posted: dict[str, str] = Field(default_factory=dict)
    skipped: list[str] = Field(default_factory=list)
    parent_updated: bool = False
    release: bool = True
    next_poll_at: datetime | None = None
    hold: bool = False
    finish: bool = False
    gave_up: bool = False


class SlackPost(BaseModel):
    """A reply in an activity's thread: meant (`pending`) or done (`posted`, with its ts)."""

    model_config = ConfigDict(frozen=True)

    tracked_id: int
    key: str
    status: str
    ts: str | None
    owner: str
    created_at: datetime
    posted_at: datetime | None

    @property
    def posted(self) -> bool:
        return self.status == "posted"

    @property
    def pending(self) -> bool:
        return self.status == "pending"


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    workspace_id: str
    user_id: str
    action: str
    detail: str
    outcome: str
    at: datetime
