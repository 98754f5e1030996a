"""Running the rules that are due, in the worker: each due run once, whatever the number of
workers, as an ordinary request of the rule's creator.

A due rule is leased (bot/store/rules.py), so one worker takes it; its line goes through the
one pipeline (`Pipeline.handle`) with a conversation that posts the parent in the rule's
channel, under a key made of the rule and the run it is (`rule:<id>:<due time>`), so even a
worker that dies between the run and its record does not run it twice. The next run is the
first one after *now*: runs missed while nothing ran come to one run, not one per time missed.
A rule made through an approval runs as approved (`Request.approved_by`): its line does not
wait for an approver again, though its creator must still be allowed in its channel.

A run whose expected cost is more than what is left of today's API budget is skipped with a
word in the channel; a run refused (a tag deleted since, a permission taken away...) is said
in the channel too, and the third refusal in a row pauses the rule and tells its creator by DM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from bot.cc.budget import Priority, calling
from bot.clock import Clock
from bot.store.rules import Rule, RuleStore, RunRecord
from bot.usecases.inputs import Actor
from bot.usecases.outcomes import Refused, plural
from bot.usecases.parent import shortened
from bot.usecases.ports import Message, Pending
from bot.usecases.requests import Pipeline, Request
from bot.usecases.rules.book import budget_left, calls_made, schedule_of
from bot.usecases.rules.schedule import local_words, next_run

log = logging.getLogger(__name__)

MAX_FAILURES = 3  # refused runs in a row before a rule pauses itself
LEASE_SECONDS = 300.0  # a run (look-ups, then starting a job's parts) fits well within it
IDLE_SECONDS = 60.0  # how long to wait when no rule is due


class Posts(Protocol):
    """Where a workspace's rules speak: the parent messages of the runs, and words in a
    channel or (to a user id) by DM. Slack's `ChannelPosts` is one."""

    def post_parent(self, channel: str, message: Message) -> str: ...

    def update_parent(self, channel: str, ref: str, message: Message) -> None: ...


class RunConversation:
    """The Conversation of one run: the parent goes to the rule's channel with a note naming
    the rule; what would be said to the person is kept as the run's outcome."""

    def __init__(self, posts: Posts, rule: Rule) -> None:
        self._posts = posts
        approved = f", approved by <@{rule.approved_by}>" if rule.approved_by else ""
        self._note = f"Rule `{rule.id}`: {rule.schedule} ({rule.tz}){approved}"
        self.said: list[Message] = []
        self.refused: str | None = None
        self.parent: str | None = None

    def say(self, message: Message) -> None:
        self.said.append(message)

    def refuse(self, reason: str) -> None:
        self.refused = reason

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        raise Refused("this run would have to be confirmed")  # runs are agreed; never asked

    def open_form(self, command: str) -> None:
        raise Refused("a rule's line is whole; it opens no form")

    def post_parent(self, channel: str, message: Message) -> str:
        self.parent = self._posts.post_parent(channel, self._noted(message))
        return self.parent

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        self._posts.update_parent(channel, ref, self._noted(message))

    def _noted(self, message: Message) -> Message:
        return Message(message.text, message.note or self._note, message.link)


class RuleRunner:
    def __init__(
        self,
        pipeline: Pipeline,
        posts_for: Callable[[str], Posts],
        clock: Clock,
        *,
        owner: str,
        lease_seconds: float = LEASE_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._pipeline = pipeline
        self._rules = RuleStore(pipeline.ops.store)
        self._posts_for = posts_for
        self._clock = clock
        self._owner = owner
        self._lease = lease_seconds
        self._idle = idle_seconds

    def run_due(self) -> float:
        """Run every rule due now; answers the seconds until the next one is due."""
        for rule in self._rules.claim_due(self._owner, self._lease):
            try:
                self._run(rule)
            except Exception:
                log.exception("running rule %s failed", rule.id)
                self._broken(rule)
        due = self._rules.next_due_at()
        if due is None:
            return self._idle
        return min(max((due - self._clock.now()).total_seconds(), 0.0), self._idle)

    def _run(self, rule: Rule) -> None:
        with calling(rule.workspace_id, Priority.BACKGROUND):  # the rule's share, behind people
            self._run_now(rule)

    def _run_now(self, rule: Rule) -> None:
        now = self._clock.now()
        then = next_run(schedule_of(rule), now)
        posts = self._posts_for(rule.workspace_id)
        account = self._pipeline.accounts.client_for(rule.workspace_id)
        left = budget_left(account) if account is not None else None
        if left is not None and rule.cost > left:
            self._skip(rule, posts, left, now, then)
            return
        talk = RunConversation(posts, rule)
        request = Request(
            Actor(rule.workspace_id, rule.creator_id),
            rule.line,
            rule.channel_id,
            once=f"rule:{rule.id}:{rule.next_run_at.isoformat()}",
            agreed=True,
            approved_by=rule.approved_by,
        )
        made = calls_made(account) if account is not None else None
        self._pipeline.handle(request, talk)
        after = calls_made(account) if account is not None else None
        spent = after - made if made is not None and after is not None else None
        self._record(rule, posts, talk, now, then, spent)

    def _broken(self, rule: Rule) -> None:
        """Something went wrong on our side: a failed run like any other, so a rule that
        keeps breaking pauses itself instead of being tried again every lease."""
        now = self._clock.now()
        failures = rule.failures + 1
        pause = f"paused after {MAX_FAILURES} failed runs" if failures >= MAX_FAILURES else None
        try:
            then = next_run(schedule_of(rule), now)
        except ValueError:
            then, pause = rule.next_run_at, "paused: its schedule cannot be read"
        result = f"failed {local_words(now, rule.tz)}: something went wrong on our side"
        record = RunRecord(result=result, failed=True, next_run_at=then, pause=pause)
        try:
            self._rules.ran(rule.id, self._owner, record)
        except Exception:
            log.exception("recording rule %s failed; its lease will expire", rule.id)

    def _skip(self, rule: Rule, posts: Posts, left: int, now: datetime, then: datetime) -> None:
        why = (
            f"a run costs about {plural(rule.cost, 'API call')} and "
            f"{plural(left, 'call')} {'is' if left == 1 else 'are'} left today"
        )
        self._say(
            posts,
            rule.channel_id,
            f":double_vertical_bar: Rule `{rule.id}` ({rule.schedule}) skipped this run: {why}. "
            f"Next run: {local_words(then, rule.tz)}.",
        )
        result = f"skipped {local_words(now, rule.tz)}: {why}"
        record = RunRecord(result=result, failed=False, next_run_at=then)
        self._rules.ran(rule.id, self._owner, record)

    def _record(
        self,
        rule: Rule,
        posts: Posts,
        talk: RunConversation,
        now: datetime,
        then: datetime,
        spent: int | None,
    ) -> None:
        when = local_words(now, rule.tz)
        if talk.refused is None:
            result = f"started {when}" if talk.parent or talk.said else f"ran {when}"
            record = RunRecord(result=result, failed=False, next_run_at=then, cost=spent or None)
            self._rules.ran(rule.id, self._owner, record)
            return
        reason = shortened(talk.refused, 300)
        failures = rule.failures + 1
        pause = f"paused after {MAX_FAILURES} failed runs" if failures >= MAX_FAILURES else None
        if talk.parent is None:  # else the parent says why it did not start
            self._say(
                posts,
                rule.channel_id,
                f":warning: Rule `{rule.id}` ({rule.schedule}) did not run: {reason}",
            )
        record = RunRecord(
            result=f"failed {when}: {reason}", failed=True, next_run_at=then, pause=pause
        )
        if self._rules.ran(rule.id, self._owner, record) and pause is not None:
            self._say(
                posts,
                rule.creator_id,
                f":pause_button: Your rule `{rule.id}` ({rule.schedule}: "
                f"{shortened(rule.summary, 200)}) failed {MAX_FAILURES} times in a row, so it is "
                f"paused. The last time: {reason}. Fix it, then `/cctag rule resume {rule.id}` "
                f"(or `/cctag rule delete {rule.id}`).",
            )

    @staticmethod
    def _say(posts: Posts, where: str, text: str) -> None:
        try:
            posts.post_parent(where, Message(text))
        except Exception:
            log.warning("could not tell %s about a rule's run", where, exc_info=True)
