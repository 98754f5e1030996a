"""The use cases' front desk: audit, refusals audited once, the single calls (create, rename,
tags, status), and the bulk commands planned (bot/usecases/planning.py) and started.

No Slack payloads and no HTTP here: plain inputs (bot/usecases/inputs.py), an AccountClient,
the Store. Every refusal raises `Refused` with a message a person understands, after auditing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.cc.client import AccountClient
from bot.cc.errors import AmbiguousActivity, CCError, Conflict, NotFound, StartInDoubt
from bot.cc.models import (
    Activity,
    ActivityKind,
    LimitError,
    Tag,
    validate_tag_name,
)
from bot.clock import SYSTEM_CLOCK, Clock
from bot.store import Store, TrackedActivity
from bot.store.jobs import RUNNING, Job, JobStore
from bot.usecases.bodies import action_name
from bot.usecases.catalog import Catalog
from bot.usecases.inputs import Actor, BulkInput
from bot.usecases.jobs import JobProgress, job_progress
from bot.usecases.launch import start_step
from bot.usecases.outcomes import Refused, cc_message, tag_exists
from bot.usecases.people import ContactResolver, is_uuid
from bot.usecases.planning import BulkPlanner
from bot.usecases.plans import Plan, Step
from bot.usecases.resolver import named, tag_named
from bot.usecases.sources import Sources
from bot.usecases.words import summarize


@dataclass(frozen=True)
class StatusReport:
    activity: Activity
    tracked: TrackedActivity | None


@dataclass(frozen=True)
class JobReport:
    job: Job
    progress: JobProgress


# ---------------------------------------------------------------- the use cases

_T = TypeVar("_T")


class Operations:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        *,
        clock: Clock = SYSTEM_CLOCK,
        undo_days: float = 7.0,
    ) -> None:
        self.store = store
        self.undo_days = undo_days  # CCTAG_UNDO_DAYS
        self.catalog = catalog
        self.resolver = ContactResolver(store, store.clock)
        self.sources = Sources(clock)
        self.planner = BulkPlanner(catalog, self.resolver, self.sources)

    # ------------------------------------------------------------ audit
    def audit(self, actor: Actor, action: str, detail: str, outcome: str) -> None:
        self.store.audit(
            workspace_id=actor.workspace_id,
            user_id=actor.user_id,
            action=action,
            detail=detail[:2000],
            outcome=outcome[:2000],
        )

    def _refusing(self, actor: Actor, action: str, detail: str, work: Callable[[], _T]) -> _T:
        """Run `work`; any refusal is audited and raised as Refused, never half-done."""
        try:
            return work()
        except (StartInDoubt, AmbiguousActivity) as exc:
            self.audit(actor, action, detail, f"unknown: {exc.message}")
            raise  # not a refusal: it may have started (bot/usecases/launch.py settles it)
        except Refused as exc:
            refused = exc
        except LimitError as exc:
            refused = Refused(str(exc))
        except CCError as exc:
            refused = Refused(cc_message(exc))
            refused.__cause__ = exc  # the launcher parks a step the day's budget refused
        self.audit(actor, action, detail, f"refused: {refused.message}")
        refused.audited = True
        raise refused

    # ------------------------------------------------------------ single calls
    def create_tag(
        self, actor: Actor, client: AccountClient, name: str, tag_source: str | None = None
    ) -> Tag:
        def work() -> Tag:
            try:
                tag = client.create_tag(name, tag_source)
            except Conflict:
                raise Refused(tag_exists(name)) from None
            self.catalog.forget_tags(actor.workspace_id)
            return tag

        tag = self._refusing(actor, "create_tag", name, work)
        self.audit(actor, "create_tag", name, f"created {tag.tag_id}")
        return tag

    def rename_tag(self, actor: Actor, client: AccountClient, old_name: str, new_name: str) -> Tag:
        detail = f"{old_name} → {new_name}"

        def work() -> Tag:
            checked = validate_tag_name(new_name)  # before any call: a bad name costs nothing
            tag = tag_named(self.catalog, actor.workspace_id, client, old_name)
            try:
                renamed = client.rename_tag(tag.tag_id, checked)
            except Conflict:
                raise Refused(tag_exists(new_name)) from None
            self.catalog.forget_tags(actor.workspace_id)
            return renamed

        tag = self._refusing(actor, "rename_tag", detail, work)
        self.audit(actor, "rename_tag", detail, f"renamed {tag.tag_id}")
        return tag

    def tag_counts(self, actor: Actor, client: AccountClient) -> list[Tag]:
        tags = self._refusing(actor, "tags", "", lambda: client.list_tags(include_count=True))
        self.audit(actor, "tags", "", f"listed {len(tags)}")
        return sorted(tags, key=lambda tag: tag.name.casefold())

    def status(self, actor: Actor, client: AccountClient, wanted: str) -> StatusReport | JobReport:
        """An activity or a job, by its id (a UUID: anything else is refused before any call)."""
        ident = wanted.strip().lower()

        def check() -> None:
            if not ident:
                raise Refused("Say which activity or job: /cctag status <id>")
            if not is_uuid(ident):
                raise Refused(
                    f"“{wanted.strip()[:60]}” is not an activity or job id (ids look like "
                    "8-4-4-4-12 hexadecimal digits)"
                )

        self._refusing(actor, "status", wanted, check)
        job = JobStore(self.store).get(ident)
        if job is not None and job.workspace_id == actor.workspace_id:
            progress = job_progress(job.id, job.parts, given_up=job.state != RUNNING)
            self.audit(actor, "status", ident, f"job {job.state}")
            return JobReport(job, progress)

        def work() -> Activity:
            try:
                return client.get_activity(ident)
            except NotFound:
                raise Refused(f"No activity or job `{ident}` in this account") from None

        activity = self._refusing(actor, "status", wanted, work)
        self.audit(actor, "status", wanted, activity.state)
        tracked = self.store.get_tracked(actor.workspace_id, activity.activity_id)
        return StatusReport(activity, tracked)

    # ------------------------------------------------------------ plans
    def named(self, actor: Actor, client: AccountClient, inp: BulkInput) -> BulkInput:
        """Ids picked from a menu replaced by names."""
        return named(self.catalog, self.sources.menus, actor.workspace_id, client, inp)

    def plan(
        self,
        actor: Actor,
        client: AccountClient,
        inp: BulkInput,
        *,
        notify: Callable[[str], None] | None = None,
    ) -> Plan:
        """Check limits, resolve every name (all unknown ones listed), count what it touches.
        `notify` tells the person about a wait (a segment still being computed)."""
        return self._refusing(
            actor,
            action_name(inp),
            summarize(inp),
            lambda: self.planner.plan(actor, client, inp, notify),
        )

    # ------------------------------------------------------------ start
    def start_step(self, actor: Actor, client: AccountClient, step: Step, summary: str) -> Activity:
        """One step's activity, started and audited (a refusal is audited and raised)."""
        activity = self._refusing(actor, step.kind.value, summary, lambda: start_step(client, step))
        if step.kind == ActivityKind.DELETE_TAGS:
            self.catalog.forget_tags(actor.workspace_id)
        self.audit(actor, step.kind.value, summary, f"started {activity.activity_id}")
        return activity

    def starter(self, actor: Actor) -> Callable[[AccountClient, Step, str], Activity]:
        """What the launcher calls to start a step for `actor`."""
        return lambda client, step, summary: self.start_step(actor, client, step, summary)
