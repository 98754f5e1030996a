"""The rule use cases: make one (after previewing what it would do now), list them, pause,
resume or delete one. No Slack here: the creator's time zone comes through the
conversation when it can tell it (`KnowsTimeZones`), else the rule keeps UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.cc.budget import current_caller
from bot.cc.client import AccountClient
from bot.store import Store
from bot.store.rules import NewRule, Rule, RuleStore
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

    def make(
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
    ) -> Made:
        """`line` (read as `inp`) every `when` (`monday at 09:00`): planned now (its preview;
        an unknown name refuses it), then kept."""
        schedule = rule_schedule(when, tz)
        before = calls_made(account)
        plan = self._ops.plan(actor, account, inp, notify=notify)
        after = calls_made(account)
        spent = after - before if before is not None and after is not None else None
        now = self.store.clock.now()
        rule = self._rules.create(
            NewRule(
                workspace_id=actor.workspace_id,
                channel_id=channel,
                creator_id=actor.user_id,
                schedule=schedule.words,
                tz=schedule.tz,
                line=line,
                summary=plan.summary,
                cost=run_cost(plan, spent),
                next_run_at=next_run(schedule, now),
            )
        )
        self._ops.audit(actor, "rule", f"{schedule.words}: {line}", f"made {rule.id}")
        return Made(rule, plan, bool(tz) and schedule.tz == tz)

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


def made_message(made: Made, preview: Message) -> Message:
    rule = made.rule
    zone = rule.tz if made.zone_known else f"{rule.tz}: your time zone could not be read"
    text = (
        f"{preview.text}\n"
        f"*Rule `{rule.id}`* made: *{rule.schedule}* ({zone}), in this channel. "
        f"Next run: {local_words(rule.next_run_at, rule.tz)}. "
        f"Each run does what this preview says with the contacts of that day, costs about "
        f"{plural(rule.cost, 'API call')}, and starts without asking. "
        f"`/cctag rule pause {rule.id}` pauses it."
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
    return (
        f"`{rule.id}` *{rule.schedule}* ({rule.tz}), by <@{rule.creator_id}> "
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
