"""The rule use cases: make one (after previewing what it would do now), list them, pause,
resume or delete one. No Slack here: the creator's time zone comes through the
conversation when it can tell it (`KnowsTimeZones`), else the rule keeps UTC.

Making a rule is planned (`RuleBook.planned`) then kept (`RuleBook.keep`): in between, a
rule whose line needs an approver waits for one as a plan of its own (`Planned.asked`: the
line's plan under the rule's words), and is kept only once approved, naming its approver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.cc.budget import current_caller
from bot.cc.client import AccountClient
from bot.store import Store
from bot.store.rules import NewRule, Rule, RuleStore
from bot.usecases.approvals import RULE
from bot.usecases.inputs import Actor, BulkInput
from bot.usecases.outcomes import Refused, plural
from bot.usecases.parent import shortened
from bot.usecases.planning import calls_left_today
from bot.usecases.plans import Plan
from bot.usecases.ports import Message
from bot.usecases.rules.schedule import (
    UTC_NAME,
    Schedule,
    ScheduleError,
    local_words,
    next_run,
    parse_schedule,
)
from bot.usecases.service import Operations

STALE_RULE = (
    "what it names or its creator's time zone changed since it was asked (a tag or list was "
    "renamed, deleted or made again, the contacts it finds are not the same, or its time "
    "would not be the one approved)"
)
PAUSE = "pause"
RESUME = "resume"
DELETE = "delete"
MAX_LISTED = 40  # rules shown by `/cctag rules`; the rest are counted


@runtime_checkable
class KnowsTimeZones(Protocol):
    """A front end that can tell a person's time zone (Slack: users.info `tz`)."""

    def time_zone(self, user_id: str) -> str | None: ...


def budget_left(account: AccountClient) -> int | None:
    """What is left of today's API budget for rules: the one place that asks."""
    return calls_left_today(account)


def calls_made(account: AccountClient) -> int | None:
    """A count that rises by one with each call the asking workspace makes today, whatever its
    priority (what is *left* for rules does not move with a person's calls): to measure a run."""
    view = account.budget(current_caller().workspace)
    if view is not None:
        return view.workspace_calls
    left = calls_left_today(account)
    return None if left is None else -left


def schedule_of(rule: Rule) -> Schedule:
    return parse_schedule(rule.schedule.removeprefix("every "), rule.tz)


def rule_schedule(when: str, tz: str | None) -> Schedule:
    try:
        return parse_schedule(when, tz or UTC_NAME)
    except ScheduleError as exc:
        raise Refused(str(exc)) from None


@dataclass(frozen=True)
class Planned:
    """A rule as previewed, not kept yet: `line` (planned now as `plan`) on `schedule`, in
    `channel`; `cost` the calls a run is expected to spend."""

    schedule: Schedule
    line: str
    plan: Plan
    cost: int
    channel: str
    next_run_at: datetime
    zone_known: bool

    @property
    def words(self) -> str:
        """`every monday at 09:00 (Europe/Paris)`."""
        return f"{self.schedule.words} ({self.schedule.tz})"

    @property
    def asked(self) -> Plan:
        """The plan an approver decides on: the line's steps, named as the rule it makes (its
        schedule and zone are in the summary, so a change of either makes it stale)."""
        summary = f"make a rule, {self.words}: {self.plan.summary}"
        return replace(self.plan, action=RULE, summary=summary)


@dataclass(frozen=True)
class Made:
    rule: Rule
    plan: Plan
    zone_known: bool


def run_cost(plan: Plan, spent: int | None) -> int:
    """The calls a run spends: finding the contacts (as the preview just did) and starting."""
    return max(spent or 0, 0) + len(plan.parts)


class RuleBook:
    def __init__(self, ops: Operations) -> None:
        self._ops = ops
        self._rules = RuleStore(ops.store)

    @property
    def store(self) -> Store:
        return self._ops.store

    def planned(
        self,
        actor: Actor,
        account: AccountClient,
        when: str,
        line: str,
        inp: BulkInput,
        *,
        channel: str,
        tz: str | None,
        notify: Callable[[str], None] | None = None,
    ) -> Planned:
        """`line` (read as `inp`) every `when` (`monday at 09:00`), planned now (its preview;
        an unknown name refuses it), and what a run costs."""
        schedule = rule_schedule(when, tz)
        before = calls_made(account)
        plan = self._ops.plan(actor, account, inp, notify=notify)
        after = calls_made(account)
        spent = after - before if before is not None and after is not None else None
        return Planned(
            schedule,
            line,
            plan,
            run_cost(plan, spent),
            channel,
            next_run(schedule, self.store.clock.now()),
            bool(tz) and schedule.tz == tz,
        )

    def keep(
        self,
        actor: Actor,
        planned: Planned,
        *,
        approved_by: str | None = None,
        approved_at: datetime | None = None,
    ) -> Made:
        """The rule kept, to run from its next time on (`approved_by`: its runs go through as
        approved, the line having needed an approver)."""
        schedule = planned.schedule
        rule = self._rules.create(
            NewRule(
                workspace_id=actor.workspace_id,
                channel_id=planned.channel,
                creator_id=actor.user_id,
                schedule=schedule.words,
                tz=schedule.tz,
                line=planned.line,
                summary=planned.plan.summary,
                cost=planned.cost,
                next_run_at=next_run(schedule, self.store.clock.now()),
                approved_by=approved_by,
                approved_at=approved_at,
            )
        )
        by = f", approved by {approved_by}" if approved_by else ""
        self._ops.audit(actor, "rule", f"{schedule.words}: {planned.line}", f"made {rule.id}{by}")
        return Made(rule, planned.plan, planned.zone_known)

    def listed(self, workspace_id: str) -> list[Rule]:
        return self._rules.of_workspace(workspace_id)

    def get(self, actor: Actor, rule_id: int) -> Rule:
        rule = self._rules.get(actor.workspace_id, rule_id)
        if rule is None:
            raise Refused(f"No rule `{rule_id}` in this workspace; see `/cctag rules`")
        return rule

    def change(self, actor: Actor, verb: str, rule_id: int) -> Message:
        rule = self.get(actor, rule_id)
        if verb == DELETE:
            self._rules.delete(actor.workspace_id, rule_id)
            said = Message(
                f"Deleted rule `{rule_id}` ({rule.schedule}: {shortened(rule.summary)})."
            )
        elif verb == PAUSE:
            self._rules.set_paused(
                actor.workspace_id, rule_id, True, why=f"paused by <@{actor.user_id}>"
            )
            said = Message(
                f"Paused rule `{rule_id}`; it will not run until `/cctag rule resume {rule_id}`."
            )
        else:
            after = next_run(schedule_of(rule), self.store.clock.now())
            resumed = self._rules.set_paused(actor.workspace_id, rule_id, False, next_run_at=after)
            assert resumed is not None
            said = Message(f"Resumed rule `{rule_id}`. Next run: {local_words(after, rule.tz)}.")
        self._ops.audit(actor, f"rule {verb}", str(rule_id), "done")
        return said


# ---------------------------------------------------------------- words


def zone_words(tz: str, known: bool) -> str:
    return tz if known else f"{tz}: your time zone could not be read"


def made_message(made: Made, preview: Message) -> Message:
    rule = made.rule
    zone = zone_words(rule.tz, made.zone_known)
    if rule.approved_by:
        where = f"in `{rule.channel_id}`, for <@{rule.creator_id}>"
        asks = f"starts without asking (approved by <@{rule.approved_by}>)"
    else:
        where, asks = "in this channel", "starts without asking"
    text = (
        f"{preview.text}\n"
        f"*Rule `{rule.id}`* made: *{rule.schedule}* ({zone}), {where}. "
        f"Next run: {local_words(rule.next_run_at, rule.tz)}. "
        f"Each run does what this preview says with the contacts of that day, costs about "
        f"{plural(rule.cost, 'API call')}, and {asks}. "
        f"`/cctag rule pause {rule.id}` pauses it."
    )
    return Message(text)


def asked_message(planned: Planned, preview: Message) -> Message:
    """What an approver is shown (and the requester, above where it waits): the line's
    preview, then that it is a rule, its schedule, and what each run would do."""
    tz = zone_words(planned.schedule.tz, planned.zone_known)
    text = (
        f"{preview.text}\n"
        f":repeat: *This makes a rule*: *{planned.schedule.words}* ({tz}), in "
        f"`{planned.channel}`; first run {local_words(planned.next_run_at, planned.schedule.tz)}. "
        f"Each run does what this preview says with the contacts of that day, costs about "
        f"{plural(planned.cost, 'API call')}, and, once approved, starts without asking again."
    )
    return Message(text)


def rule_words(rule: Rule) -> str:
    """One rule: id, schedule, what it does, next run (creator's zone), last result."""
    state = (
        f"*paused* ({rule.paused_why})"
        if rule.paused
        else (f"next run {local_words(rule.next_run_at, rule.tz)}")
    )
    last = f"last: {rule.last_result}" if rule.last_result else "not run yet"
    approved = f", approved by <@{rule.approved_by}>" if rule.approved_by else ""
    return (
        f"`{rule.id}` *{rule.schedule}* ({rule.tz}), by <@{rule.creator_id}>{approved} "
        f"in `{rule.channel_id}`: "
        f"{shortened(rule.summary, 200)} · {state} · {last}"
    )


def rules_message(rules: Sequence[Rule]) -> Message:
    if not rules:
        return Message(
            "No rules yet. Make one with `/cctag every monday at 09:00 add <tag> <source>`."
        )
    lines = [f"• {rule_words(rule)}" for rule in rules[:MAX_LISTED]]
    if len(rules) > MAX_LISTED:
        lines.append(f"… and {len(rules) - MAX_LISTED} more")
    head = f"*{plural(len(rules), 'rule')}*"
    return Message("\n".join([head, *lines]), "`/cctag rule pause|resume|delete <id>`")
