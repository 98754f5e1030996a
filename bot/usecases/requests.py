"""One pipeline for every request, whatever the front end: claim once, permit, account, plan
(resolve, limits, preview), confirm when needed, launch (parent → start → track → update),
audit once. Front ends hand in a `Request` and a `Conversation`; nothing here knows Slack.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Protocol

from bot.cc.budget import Priority, calling
from bot.cc.client import AccountClient
from bot.cc.errors import CCError
from bot.cc.models import LimitError
from bot.mrkdwn import shorten_names
from bot.ops.logs import log_ids
from bot.store.approvals import APPROVED, FAILED, STALE, Approval
from bot.usecases.approvals import (
    RESTRICTED,
    STALE_WHY,
    Approvals,
    StalePlan,
    fingerprint,
    input_from,
    when,
)
from bot.usecases.bodies import action_name, check_limits
from bot.usecases.catalog import Catalog
from bot.usecases.grammar import ParseError, split_command
from bot.usecases.inputs import Actor, BulkInput, DeleteInput, SourceKind
from bot.usecases.launch import Launched, Launcher, activities, launched_message
from bot.usecases.outcomes import People, Refused, plural
from bot.usecases.parent import shortened
from bot.usecases.people import contacts_in
from bot.usecases.plans import Plan
from bot.usecases.ports import (
    ALL_ACTIVE,
    CONNECT_NOT_SET_UP,
    DELETE_TAGS,
    NOT_CONNECTED,
    Accounts,
    Connections,
    Conversation,
    Message,
    Pending,
    Permits,
    TellsProgress,
)
from bot.usecases.service import Operations
from bot.usecases.sources import CampaignMenus
from bot.usecases.undo.record import change_recorder, with_record_cost

log = logging.getLogger(__name__)
# A confirmation carries the line it confirms (as JSON, in a button's 2,000 characters); a
# longer one is saved and named by its id.
MAX_CARRIED_LINE = 1800
SAVED = "saved"
SCREENFUL = 1200  # characters of emails listed in a preview before "and N more"
# A look-up past this many API calls (4 a second: about 2 seconds) is announced before the
# preview comes, with how long it should take.
SLOW_LOOKUP_CALLS = 8
CALLS_PER_SECOND = 4
OOPS = "Something went wrong on our side; nothing was started. Try again in a moment."


def started_anyway(started: list[str]) -> Message:
    """What went wrong came after a start: the person is told it started, never to run it again."""
    return Message(
        f"Started: {', '.join(started)}; its progress follows in the channel thread. "
        "Something went wrong on our side after it started, so do not run it again."
    )


@dataclass(frozen=True)
class Request:
    """`text` is the line after /cctag; `channel` where the activity's parent goes (a channel,
    or the requester's own id for a DM, or None where nothing is posted); `once` a key that
    makes a retried delivery a no-op; `agreed`: the yes was given beforehand (a rule's run,
    agreed to when the rule was made), so nothing asks to confirm; `approved_by`: an approver
    agreed beforehand (the run of a rule made through an approval), so nothing waits again."""

    actor: Actor
    text: str
    channel: str | None = None
    once: str | None = None
    agreed: bool = False
    approved_by: str | None = None


@contextmanager
def person_waiting(actor: Actor, *, agreed: bool = False) -> Iterator[None]:
    """Calls made inside go first in the API key's budget (bot/cc/budget.py): a person waits.
    A request agreed to beforehand (a rule's run) has nobody waiting: background work."""
    with calling(actor.workspace_id, Priority.BACKGROUND if agreed else Priority.PERSON):
        yield


class Runnable(Protocol):
    """What the pipeline needs of a command (bot/usecases/commands: `Command`), named here so
    the pipeline does not import the commands that build on it."""

    @property
    def permission(self) -> str | None: ...

    @property
    def run(self) -> Callable[[Turn, str], None]: ...


def required_action(inp: BulkInput) -> str:
    """Deleting tags and all active contacts are restricted; the rest need an allowed channel."""
    if isinstance(inp, DeleteInput):
        return DELETE_TAGS
    if inp.source.kind == SourceKind.ALL_ACTIVE:
        return ALL_ACTIVE
    return action_name(inp)


def preview(plan: Plan) -> Message:
    """The request, its warning and its cost first, then the itemised counts: a front end that
    must shorten a long preview drops items from the end, never the warning."""
    lines = [f"You asked to *{shortened(plan.summary)}*."]
    if plan.warning:
        lines.append(plan.warning)
    lines += plan.notes  # what a source selected (a campaign's clickers, a segment's members)
    if plan.is_job or plan.people is not None:
        lines.append(cost_line(plan))
    if plan.tag_counts:
        lines += [f"• *{name}*: {_contacts(count)}" for name, count in plan.tag_counts]
    elif plan.people is not None:
        lines += people_lines(plan.people)
    elif plan.contacts is not None:
        lines.append(f"This touches about *{plural(plan.contacts, 'contact')}*.")
    return Message("\n".join(lines))


def people_lines(people: People) -> list[str]:
    """Found, not found (listed, shortened past a screenful), skipped and why."""
    lines = [f"• *{plural(people.found, 'contact')}* found"]
    if people.not_found:
        shown = shorten_names(people.not_found, SCREENFUL, escaping=False)
        lines.append(f"• *{plural(len(people.not_found), 'email')}* not found: {shown}")
    if people.skipped:
        reasons = Counter(reason for _, reason in people.skipped)
        why = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
        shown = shorten_names([email for email, _ in people.skipped], SCREENFUL, escaping=False)
        lines.append(f"• *{plural(len(people.skipped), 'contact')}* skipped ({why}): {shown}")
    return lines


def cost_line(plan: Plan) -> str:
    """The activities and API calls the request spends, and what is left of today's budget."""
    starts = len(plan.steps) + plan.single_calls
    spent = plan.people.calls if plan.people is not None else 0
    how = f"a job of *{activities(len(plan.steps))}*" if plan.is_job else "*one activity*"
    text = f"It runs as {how}: {plural(starts, 'API call')} to start"
    if plan.people is not None:
        text += f" (finding the contacts took {plural(spent, 'call')})"
    if plan.calls_left is not None:
        text += f"; {plan.calls_left:,} of today's API calls are left for this workspace"
        if calls_needed(plan) > plan.calls_left:
            text += (
                f". It cannot finish today: it needs about {calls_needed(plan):,} calls "
                "(starting and following each activity), and what is left waits for the "
                "budget to reset at 00:00 UTC"
            )
    return text + "."


def calls_needed(plan: Plan) -> int:
    """The background calls a plan spends at least: one to start each step, one to read it."""
    return 2 * len(plan.steps)


def _emails_named(inp: BulkInput) -> int:
    """How many emails the request names (its contacts and exclusions); 0 when it names none,
    or when they do not parse (the plan then refuses them in a sentence)."""
    if isinstance(inp, DeleteInput):
        return 0
    values = [*inp.exclude]
    if inp.source.kind == SourceKind.CONTACTS:
        values += inp.source.values
    if not values:
        return 0
    try:
        return len(contacts_in(", ".join(values)).emails)
    except LimitError:
        return 0


def _contacts(count: int | None) -> str:
    return "unknown number of contacts" if count is None else plural(count, "contact")


def with_preview(plan: Plan, message: Message) -> Message:
    """What was found (for an emails request) above the word that it started."""
    if plan.people is None:
        return message
    return Message(preview(plan).text + "\n" + message.text, message.note, message.link)


class Turn:
    """One request on its way: what a command may ask of the pipeline."""

    def __init__(self, pipeline: Pipeline, request: Request, conversation: Conversation) -> None:
        self.pipeline = pipeline
        self.ops = pipeline.ops
        self.actor = request.actor
        self.channel = request.channel
        self.conversation = conversation
        self.started: list[str] = []  # what this turn started (for the words if it then fails)
        # A yes to this request was given (for a rule's run: when the rule was made).
        self.confirmed = request.agreed
        self.agreed = request.agreed  # nobody waits for it: a rule's run
        self.frozen = False  # a restricted change asked without the right: to be approved
        self.approval: Approval | None = None  # the approved request this turn runs
        self.approved_by = request.approved_by  # approved beforehand: a rule's run
        self.launching = False
        self.launched = False

    def permit(self, action: str) -> None:
        """The one hook of approvals: a restricted action asked without the right is let
        through to be planned and frozen (`carry_out`), not refused; an approved one runs."""
        approvals = self.pipeline.approvals
        if action in RESTRICTED and self.approved_by is not None:
            return  # a rule approved once: its runs go through (the channel is still checked)
        if action in RESTRICTED and approvals is not None:
            if self.approval is not None:
                return  # its approver's right was checked at the click
            if approvals.needed(self.actor):
                self.frozen = True
                return
        self.pipeline.permit(self.actor, self.channel, action)

    def account(self) -> AccountClient:
        return self.pipeline.account(self.actor)

    def connections(self) -> Connections:
        return self.pipeline.connections_or_refuse()

    def say(self, message: Message) -> None:
        self.conversation.say(message)

    def audit(self, action: str, detail: str, outcome: str) -> None:
        self.ops.audit(self.actor, action, detail, outcome)

    def open_form(self, name: str) -> None:
        """The front end asks for the rest; the catalog warms while the person looks at it."""
        if name == "delete":
            self.permit(DELETE_TAGS)
        account = self.account()
        self.conversation.open_form(name)
        self.audit(name, "", "form opened")
        if name != "create":
            self.ops.catalog.tags(self.actor.workspace_id, account)
        if name not in ("create", "delete"):
            self.ops.catalog.lists(self.actor.workspace_id, account)

    def bulk(
        self, inp: BulkInput, line: str | None, *, confirmed: bool = False, picked: bool = False
    ) -> None:
        """Plan, then ask to confirm when the plan needs it, else launch and say so. `picked`:
        the names are ids chosen from menus."""
        self.permit(required_action(inp))
        account = self.account()
        if picked:
            inp = self.ops.named(self.actor, account, inp)
        self._announce_slow_lookup(account, inp)
        plan = self.ops.plan(self.actor, account, inp, notify=lambda text: self.say(Message(text)))
        self.confirmed = self.confirmed or confirmed
        self.carry_out(account, plan, line, inp)

    def carry_out(
        self, account: AccountClient, plan: Plan, line: str | None, inp: BulkInput | None = None
    ) -> None:
        """Any command's plan: ask to confirm when it needs it (the yes comes back through
        the registry with `line`, or with `inp` for a form), else launch it and say so. A
        plan that needs an approver is frozen instead; an approved one is checked first."""
        if self.approval is not None:
            approved = self._approved(plan, line)
            if approved is None:
                return
            plan = approved
        plan = with_record_cost(self.ops, self.actor, account, plan)
        if self.approval is None and self._needs_approval(plan):
            approvals = self.pipeline.approvals
            assert approvals is not None
            self.say(approvals.freeze(self.actor, self.channel, plan, preview(plan), line, inp))
            return
        if plan.needs_confirmation and not self.confirmed:
            self.ops.audit(self.actor, plan.action, plan.summary, "confirmation asked")
            pending = Pending(self._short(line), inp, self.channel)
            self.conversation.ask_to_confirm(preview(plan), pending)
            return
        self.launching = True
        launched = self.launch(account, plan)
        self.launched = True
        shown = launched_message(plan, launched)
        self.say(shown if self.confirmed else with_preview(plan, shown))

    def _needs_approval(self, plan: Plan) -> bool:
        approvals = self.pipeline.approvals
        if approvals is None or self.approved_by is not None:
            return False
        return self.frozen or approvals.too_big(self.actor, plan)

    def _approved(self, plan: Plan, line: str | None) -> Plan | None:
        """The approved plan as planned again: it must match the one frozen, else it is
        stale. A plan with single calls before its steps (merge creating its target) is
        planned once more, confirmed, to make them; it answers None meanwhile."""
        approval = self.approval
        assert approval is not None
        if not self.confirmed:
            if fingerprint(plan) != approval.fingerprint:
                raise StalePlan(STALE_WHY)
            if plan.single_calls and line is not None:
                self.confirm_line(line)
                return None
            self.confirmed = True
        at = f" at {when(approval.decided_at)}" if approval.decided_at else ""
        return replace(plan, summary=f"{plan.summary}, approved by <@{approval.decided_by}>{at}")

    def _announce_slow_lookup(self, account: AccountClient, inp: BulkInput) -> None:
        """Hundreds of emails on a cold contact index take a while: say so at once, and how
        long, so the person is not left waiting on silence for the preview."""
        talk = self.conversation
        emails = _emails_named(inp)
        if not emails or not isinstance(talk, TellsProgress) or check_limits(inp):
            return  # nothing slow, no way to say it, or refused at once by the plan
        resolver, key = self.ops.resolver, account.account_key
        size = None
        if emails > SLOW_LOOKUP_CALLS and resolver.size_unknown(key):
            # One call for the account's size: a cold look-up pages the index 500 contacts a
            # call, so its cost is the smaller of the emails and the pages, not the emails.
            try:
                size = account.count_contacts(status="all")
            except CCError:  # the plan meets it too, and says it; announce the worst case
                size = None
        calls = resolver.estimate_calls(emails, account_key=key, account_size=size)
        if calls <= SLOW_LOOKUP_CALLS:
            return
        seconds = math.ceil(calls / CALLS_PER_SECOND)
        about = plural(seconds, "second") if seconds < 120 else plural(seconds // 60, "minute")
        talk.working(
            Message(
                f"Looking up {plural(emails, 'email')} in Constant "
                f"Contact: at most {plural(calls, 'API call')}, so about {about}. "
                "What was found follows before anything starts."
            )
        )

    def confirm_line(self, line: str) -> None:
        """A yes to a one-line command, or to a saved one (`saved <id>`, see `_short`): run
        again through the registry (names may have changed), confirmed."""
        head = split_command(line)
        if head.name == SAVED:
            found = self.ops.store.saved_line(
                self.actor.workspace_id, self.actor.user_id, head.rest
            )
            if found is None:
                raise Refused("This request is no longer known; type it again")
            head = split_command(found)
        self.confirmed = True
        self.pipeline.dispatch(self, head.name, head.rest)

    def _short(self, line: str | None) -> str | None:
        """A line too long to ride on a confirmation button is saved, and named instead."""
        if line is None or len(json.dumps(line)) <= MAX_CARRIED_LINE:
            return line
        line_id = self.ops.store.save_line(self.actor.workspace_id, self.actor.user_id, line)
        return f"{SAVED} {line_id}"

    def launch(self, account: AccountClient, plan: Plan) -> Launched:
        """The plan's steps through the one launcher (the poller does the thread)."""
        channel = self.channel or self.actor.user_id
        starter = self.ops.starter(self.actor)
        record = change_recorder(self.ops, self.actor)
        launcher = Launcher(self.ops.store, starter, self.actor, self.conversation, record)
        launched = launcher.launch(account, plan, channel)
        if launched.job is not None:
            self.started.append(f"job `{launched.job.id}`")
        else:
            self.started += [f"activity `{done.activity_id}`" for done in launched.started]
        return launched


class Pipeline:
    def __init__(
        self,
        operations: Operations,
        accounts: Accounts,
        commands: Mapping[str, Runnable],
        *,
        permits: Permits | None = None,
        connections: Connections | None = None,
        approvals: Approvals | None = None,
    ) -> None:
        self.ops = operations
        self.accounts = accounts
        self.commands = commands
        self.permits = permits
        self.connections = connections
        self.approvals = approvals

    # ------------------------------------------------------------ its face to front ends
    @property
    def catalog(self) -> Catalog:
        """Tags and lists, cached (the menus' type-ahead)."""
        return self.ops.catalog

    @property
    def menus(self) -> CampaignMenus:
        """Recent campaigns and their links (the menus' type-ahead)."""
        return self.ops.sources.menus

    def audit(self, actor: Actor, action: str, detail: str, outcome: str) -> None:
        self.ops.audit(actor, action, detail, outcome)

    def keep(self, actor: Actor, text: str) -> str:
        """Keep `text` for this person server-side; answers its short key."""
        return self.ops.store.save_line(actor.workspace_id, actor.user_id, text)

    def kept(self, actor: Actor, key: str) -> str | None:
        """What this person kept under `key` (another's key reads nothing)."""
        return self.ops.store.saved_line(actor.workspace_id, actor.user_id, key)

    # ------------------------------------------------------------ the steps
    def claim(self, key: str | None) -> bool:
        """True the first time `key` is seen (None: nothing to dedupe)."""
        return key is None or self.ops.store.claim_once(key)

    def permit(self, actor: Actor, channel: str | None, action: str) -> None:
        """Refused (already audited by the permits) unless allowed. In the requester's own DM
        (or the App Home) no channel rule applies."""
        if self.permits is None:
            return
        where = None if not channel or channel == actor.user_id else channel
        decision = self.permits.check(actor.workspace_id, actor.user_id, where, action)
        if not decision.allowed:
            refused = Refused(decision.reason)
            refused.audited = True
            raise refused

    def account(self, actor: Actor) -> AccountClient:
        account = self.accounts.client_for(actor.workspace_id)
        if account is None:
            raise Refused(NOT_CONNECTED)
        return account

    def approvals_or_refuse(self) -> Approvals:
        if self.approvals is None:
            raise Refused("Approvals are not set up here: nothing waits for one.")
        return self.approvals

    def approve(self, turn: Turn, approval_id: str) -> None:
        """`turn.actor` approves: claimed once, then the frozen plan is planned again as its
        requester, checked against what was previewed, and run in the requester's channel."""
        approvals = self.approvals_or_refuse()
        approval = approvals.claim(turn.actor, approval_id)
        requester = Actor(approval.workspace_id, approval.requester_id)
        run = Turn(
            self,
            Request(requester, approval.line or "", approval.channel_id),
            Approved(turn.conversation),
        )
        run.approval = approval
        self.ops.catalog.forget(approval.workspace_id)  # names are checked as they are now
        try:
            if approval.line is not None:
                head = split_command(approval.line)
                self.dispatch(run, head.name, head.rest)
            else:
                run.bulk(input_from(approval.form or "{}"), None)
        except Refused as exc:
            state = FAILED if run.launching and not isinstance(exc, StalePlan) else STALE
            approvals.finished(turn.actor, approval, state, exc.message)
            raise Refused(
                f"Request `{approval.id}` was approved but not run: {exc.message}"
            ) from None
        except Exception:
            if run.launched:  # it started; only telling the approver failed
                approvals.finished(turn.actor, approval, APPROVED)
            else:
                approvals.finished(turn.actor, approval, FAILED, "something went wrong on our side")
            raise
        approvals.finished(turn.actor, approval, APPROVED)

    def connections_or_refuse(self) -> Connections:
        if self.connections is None:
            raise Refused(CONNECT_NOT_SET_UP)
        return self.connections

    # ------------------------------------------------------------ whole requests
    def handle(self, request: Request, conversation: Conversation) -> None:
        """A one-line command: found in the registry, permitted, run; any failure is told."""
        if not self.claim(request.once):
            return  # a retried delivery of a request already handled
        line = split_command(request.text)
        turn = Turn(self, request, conversation)
        with self.guarded(turn, line.name, request.text):
            self.dispatch(turn, line.name, line.rest)

    def dispatch(self, turn: Turn, name: str, rest: str) -> None:
        """The command `name` from the registry, permitted, run on `turn`."""
        command = self.commands.get(name)
        if command is None:
            raise Refused(f"I do not know `{name}`. See `/cctag help`.")
        if command.permission:
            turn.permit(command.permission)
        command.run(turn, rest)

    def confirmed(
        self,
        request: Request,
        pending: Pending,
        conversation: Conversation,
        *,
        starting: Message | None = None,
        complete: Callable[[BulkInput], BulkInput] | None = None,
    ) -> None:
        """A yes to a confirmation, from any front end (a button, a modal, the shell): planned
        again through the registry (names may have changed), then launched. `starting` is said
        first, once claimed; `complete` finishes a form's input inside the guarded turn (what
        its front end must read again: a modal's attached files, its kept emails)."""
        if not self.claim(request.once):
            return  # a double click, or already cancelled
        if starting is not None:
            conversation.say(starting)
        turn = Turn(self, request, conversation)
        with self.guarded(turn, "confirm", pending.line or request.text):
            if pending.line is not None:
                turn.confirm_line(pending.line)
            elif pending.input is not None:
                inp = pending.input if complete is None else complete(pending.input)
                turn.bulk(inp, None, confirmed=True)
            else:
                raise Refused("This request is no longer known; type it again")

    def cancelled(self, request: Request, conversation: Conversation) -> None:
        if not self.claim(request.once):
            return
        self.ops.audit(request.actor, "confirm", request.text, "cancelled")
        conversation.say(Message("Cancelled; nothing was changed."))

    def run(
        self,
        request: Request,
        conversation: Conversation,
        action: str,
        work: Callable[[Turn], None],
    ) -> None:
        """Any other request (a submitted form, a button): claimed once, every failure told."""
        if not self.claim(request.once):
            return
        turn = Turn(self, request, conversation)
        with self.guarded(turn, action, request.text):
            work(turn)

    @contextmanager
    def guarded(self, turn: Turn, action: str, detail: str) -> Iterator[None]:
        """Refusals and parse errors become sentences, audited once; anything else is logged,
        never shown raw. Every line logged meanwhile names the request's team, user, channel;
        every Constant Contact call inside is a person's, waiting."""
        actor = turn.actor
        with log_ids(team=actor.workspace_id, user=actor.user_id, channel=turn.channel):
            yield from self._told(turn, action, detail)

    def _told(self, turn: Turn, action: str, detail: str) -> Iterator[None]:
        try:
            with person_waiting(turn.actor, agreed=turn.agreed):
                yield
        except ParseError as exc:
            message = f"{exc}. See `/cctag help`."
            turn.audit(action, detail, f"refused: {exc}")
            self._tell(turn.conversation, message)
        except Exception as exc:
            if turn.started:
                # Not the typed text: it may hold email addresses (the audit keeps it).
                log.exception("failed after starting %s: %s", turn.started, action)
                turn.audit(action, detail, f"started {', '.join(turn.started)}; then: {exc!r}")
                self._tell_started(turn)
            elif isinstance(exc, Refused):
                if not exc.audited:
                    turn.audit(action, detail, f"refused: {exc.message}")
                self._tell(turn.conversation, exc.message)
            else:
                log.exception("failed: %s", action)
                turn.audit(action, detail, f"refused: error: {exc!r}")
                self._tell(turn.conversation, OOPS)

    @staticmethod
    def _tell_started(turn: Turn) -> None:
        try:
            turn.conversation.say(started_anyway(turn.started))
        except Exception:
            log.exception("could not tell the user %s started", turn.started)

    @staticmethod
    def _tell(conversation: Conversation, message: str) -> None:
        try:
            conversation.refuse(message)
        except Exception:
            log.exception("could not tell the user why nothing was done")


class Approved:
    """The conversation of an approved plan's run: the parent goes to the requester's
    channel, what is said goes to the approver (the requester is told by a DM)."""

    def __init__(self, approver: Conversation) -> None:
        self._approver = approver

    def say(self, message: Message) -> None:
        self._approver.say(message)

    def refuse(self, reason: str) -> None:
        self._approver.refuse(reason)

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        raise Refused("An approved request is not asked again")

    def open_form(self, command: str) -> None:
        raise Refused("An approved request opens no form")

    def post_parent(self, channel: str, message: Message) -> str:
        return self._approver.post_parent(channel, message)

    def time_zone(self, user_id: str) -> str | None:
        """The requester's zone, as the approver's front end reads it (an approved rule's)."""
        reads = getattr(self._approver, "time_zone", None)
        return reads(user_id) if callable(reads) else None

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        self._approver.update_parent(channel, ref, message)
