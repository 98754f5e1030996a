"""Approvals: anyone can ask, the right people decide.

A restricted change (deleting or merging tags, all active contacts) asked by someone who is
not an approver, or any change over `over` contacts asked by one, is not refused: its plan
is frozen as previewed (the preview's text, the line or form to plan it again, and a
fingerprint of its steps), posted to the approvers' channel (or by DM to each approver) and
the requester told where it waits. The pipeline's permit step is the one hook
(bot/usecases/requests.py `Turn.permit` and `Turn.carry_out`).

A decision is one conditional UPDATE from `pending` (bot/store/approvals.py): two clicks at
once make one. At an approval the approver's right is asked again, the plan is planned again
and its fingerprint compared: a tag or list gone, renamed or re-created since is stale, said,
and nothing runs. Every request and decision is audited, and every message involved names
who decided and when.

A rule whose line would need an approver waits the same way (action `RULE`): approved, the
rule is made and names its approver, and its runs go through as approved.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import SYSTEM_CLOCK, Clock
from bot.store import Store
from bot.store.approvals import (
    APPROVED,
    APPROVING,
    DENIED,
    EXPIRED,
    FAILED,
    PENDING,
    STALE,
    Approval,
    ApprovalStore,
    NewApproval,
)
from bot.usecases.inputs import (
    Actor,
    BulkInput,
    DeleteInput,
    ListsInput,
    Source,
    SourceKind,
    TaggingInput,
)
from bot.usecases.outcomes import Refused
from bot.usecases.parent import shortened
from bot.usecases.plans import Plan
from bot.usecases.ports import ALL_ACTIVE, DELETE_TAGS, Message

log = logging.getLogger(__name__)

# The actions a person without the right may ask for, to be approved.
RESTRICTED = frozenset({DELETE_TAGS, ALL_ACTIVE})
AUDITED = "approval"
# The action of a request to make a rule (bot/usecases/rules/book.py `Planned.asked`):
# approved, it makes the rule, whose runs then start on their schedule.
RULE = "rule"
STALE_WHY = (
    "what it names changed since it was asked (a tag or list was renamed, deleted or made "
    "again, or the contacts it finds are not the same)"
)


@dataclass(frozen=True)
class ApprovalRules:
    """CCTAG_APPROVERS_CHANNEL (None: a DM to each approver), CCTAG_APPROVAL_OVER,
    CCTAG_APPROVAL_HOURS."""

    channel: str | None = None
    over: int = 5000
    hours: float = 24.0


class Approvers(Protocol):
    """Who has the right (bot/permissions.py): asked afresh at every decision."""

    def may_approve(self, workspace_id: str, user_id: str) -> bool: ...

    def approvers(self, workspace_id: str) -> list[str]:
        """Every user with the right (for the DMs when no approvers' channel is set)."""
        ...


class ApprovalPosts(Protocol):
    """The approval request's messages, and a word to a person (a Slack DM)."""

    def post_request(
        self, workspace_id: str, where: str, message: Message, approval_id: str
    ) -> tuple[str, str]:
        """Post `message` with `Approve` and `Deny` to a channel or a user (their DM);
        answers (conversation, ts). Raises Refused when it cannot be posted."""
        ...

    def update_request(
        self, workspace_id: str, conversation: str, ts: str, message: Message
    ) -> None:
        """The request's message as decided: its buttons gone."""
        ...

    def tell(self, workspace_id: str, user_id: str, message: Message) -> None: ...


class StalePlan(Refused):
    """The frozen plan no longer matches what planning it again answers: nothing runs."""


def fingerprint(plan: Plan) -> str:
    """The plan's steps as they would be sent (kinds, bodies, order) and its summary."""
    steps = [
        [step.kind.value, step.body.model_dump(mode="json", exclude_none=True), step.after]
        for step in plan.steps
    ]
    return json.dumps([plan.action, plan.summary, steps], sort_keys=True)


def plan_size(plan: Plan) -> int:
    if plan.contacts is not None:
        return plan.contacts
    if plan.people is not None:
        return plan.people.found
    return sum(count or 0 for _, count in plan.tag_counts)


# ---------------------------------------------------------------- forms, kept as data
_INPUTS: dict[str, type[TaggingInput] | type[ListsInput] | type[DeleteInput]] = {
    "tagging": TaggingInput,
    "lists": ListsInput,
    "delete": DeleteInput,
}


def input_json(inp: BulkInput) -> str:
    kind = next(name for name, cls in _INPUTS.items() if isinstance(inp, cls))
    return json.dumps({"kind": kind, "input": asdict(inp)})


def input_from(text: str) -> BulkInput:
    data: dict[str, Any] = json.loads(text)
    fields: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in data["input"].items()
    }
    if "source" in fields:
        source = fields["source"]
        fields["source"] = Source(SourceKind(source["kind"]), tuple(source["values"]))
    return _INPUTS[data["kind"]](**fields)


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def decided_line(approval: Approval) -> str:
    """Who decided and when, in the words of its state."""
    at = when(approval.decided_at) if approval.decided_at else "?"
    by = f"<@{approval.decided_by}>" if approval.decided_by else "nobody"
    if approval.state == DENIED:
        return f"*Denied* by {by} at {at}: “{approval.reason or ''}”. Nothing was run."
    if approval.state == EXPIRED:
        return f"*Expired* at {when(approval.expires_at)}, undecided. Nothing was run."
    if approval.state == STALE:
        return (
            f"*Approved* by {by} at {at}, but not run: {approval.reason or STALE_WHY}. "
            "Nothing was changed; ask again."
        )
    if approval.state == FAILED:
        return f"*Approved* by {by} at {at}, but it could not start: {approval.reason or ''}"
    if approval.state == APPROVED and approval.action == RULE:
        return (
            f"*Approved* by {by} at {at}; the rule is made, and its runs start on its "
            "schedule in the channel where it was asked."
        )
    if approval.state == APPROVED:
        return f"*Approved* by {by} at {at}; it started in the channel where it was asked."
    if approval.state == APPROVING:
        return f"*Approved* by {by} at {at}; starting…"
    return f"*Waiting* for approval until {when(approval.expires_at)}."


class Approvals:
    """The approval use case: freeze, claim, finish, deny, expire, list."""

    def __init__(
        self,
        store: Store,
        posts: ApprovalPosts,
        approvers: Approvers,
        rules: ApprovalRules = ApprovalRules(),
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._requests = ApprovalStore(store)
        self._posts = posts
        self._approvers = approvers
        self.rules = rules
        self._clock = clock

    # ------------------------------------------------------------ asking
    def needed(self, actor: Actor) -> bool:
        """True when `actor` may not decide this themselves."""
        return not self._approvers.may_approve(actor.workspace_id, actor.user_id)

    def too_big(self, actor: Actor, plan: Plan) -> bool:
        return plan_size(plan) > self.rules.over and self.needed(actor)

    def freeze(
        self,
        actor: Actor,
        channel: str | None,
        plan: Plan,
        shown: Message,
        line: str | None,
        inp: BulkInput | None,
    ) -> Message:
        """The plan kept as previewed and posted to the approvers; answers what the requester
        is told (the preview, that it waits, and where)."""
        if line is None and inp is None:
            raise Refused("This request cannot wait for an approval; ask an approver to run it")
        ws = actor.workspace_id
        targets = [self.rules.channel] if self.rules.channel else self._approvers.approvers(ws)
        targets = [target for target in targets if target != actor.user_id]
        if not targets:
            raise Refused(
                "This needs an approver, and none can be reached: no approvers' channel is set "
                "and no admin was found. Nothing was changed."
            )
        new = NewApproval(
            workspace_id=ws,
            requester_id=actor.user_id,
            channel_id=channel or actor.user_id,
            action=plan.action,
            summary=plan.summary,
            preview=shown.text,
            line=line,
            form=input_json(inp) if line is None and inp is not None else None,
            fingerprint=fingerprint(plan),
            expires_at=self._clock.now() + timedelta(hours=self.rules.hours),
        )
        approval = self._requests.create(new)
        posts = self._post_all(approval, targets)
        if not posts:
            self._requests.decide(approval.id, FAILED, None, reason="could not be posted")
            raise Refused("The approval request could not be posted; nothing was changed.")
        self._requests.set_posts(approval.id, posts)
        self._audit(actor, approval, f"requested ({len(posts)} posted)")
        where = (
            f"in the approvers' channel <#{self.rules.channel}>"
            if self.rules.channel
            else "with " + ", ".join(f"<@{user}>" for user in targets) + " by direct message"
        )
        return Message(
            f"{shown.text}\n:hourglass_flowing_sand: *This needs an approver*: request "
            f"`{approval.id}` waits {where} until {when(approval.expires_at)}. "
            "You are told here when it is decided."
        )

    def _post_all(self, approval: Approval, targets: list[str]) -> list[tuple[str, str]]:
        posts: list[tuple[str, str]] = []
        message = self._request_message(approval)
        for target in targets:
            try:
                posts.append(
                    self._posts.post_request(approval.workspace_id, target, message, approval.id)
                )
            except Exception:
                log.exception("posting approval %s to %s failed", approval.id, target)
        return posts

    @staticmethod
    def _request_message(approval: Approval) -> Message:
        return Message(
            f"<@{approval.requester_id}> asks for an approval:\n{approval.preview}",
            note=f"Request {approval.id}; it expires at {when(approval.expires_at)}. "
            "The one who asked cannot approve it.",
        )

    # ------------------------------------------------------------ deciding
    def _open(self, actor: Actor, approval_id: str) -> Approval:
        """The pending request, decidable by `actor` now; else Refused in words."""
        approval = self._requests.get(approval_id)
        if approval is None or approval.workspace_id != actor.workspace_id:
            raise Refused(f"There is no approval request `{approval_id[:16]}`.")
        if approval.state != PENDING:
            raise Refused(f"Request `{approval.id}` is decided already. {decided_line(approval)}")
        if not self._approvers.may_approve(actor.workspace_id, actor.user_id):
            self._audit(actor, approval, "refused: not an approver")
            refused = Refused(
                "Only someone with the right may decide this request; nothing was changed."
            )
            refused.audited = True
            raise refused
        if approval.expires_at <= self._clock.now():
            self.expire(approval)
            raise Refused(f"Request `{approval.id}` expired at {when(approval.expires_at)}.")
        return approval

    def claim(self, actor: Actor, approval_id: str) -> Approval:
        """`actor` approves: answers the request, now `approving`, for one click only."""
        approval = self._requests.get(approval_id)
        if approval is not None and approval.requester_id == actor.user_id:
            self._audit(actor, approval, "refused: the requester cannot approve")
            refused = Refused(
                "You asked for this: someone else with the right must approve it. "
                "Nothing was changed."
            )
            refused.audited = True
            raise refused
        approval = self._open(actor, approval_id)
        if not self._requests.decide(approval.id, APPROVING, actor.user_id):
            raise self._too_late(approval.id)
        claimed = self._fresh(approval.id)
        self._audit(actor, claimed, "approved")
        self._show(claimed)
        return claimed

    def finished(self, approver: Actor, approval: Approval, state: str, why: str = "") -> None:
        """After the approved plan's run: started (APPROVED), stale or failed; said to all."""
        self._requests.decide(approval.id, state, approval.decided_by, reason=why, was=APPROVING)
        done = self._fresh(approval.id)
        ran = "started" if state == APPROVED else state
        self._audit(approver, done, ran + (f": {why}" if why else ""))
        self._show(done)
        self._tell_requester(done)

    def deny(self, actor: Actor, approval_id: str, reason: str) -> Message:
        approval = self._open(actor, approval_id)
        if not self._requests.decide(approval.id, DENIED, actor.user_id, reason=reason):
            raise self._too_late(approval.id)
        denied = self._fresh(approval.id)
        self._audit(actor, denied, f"denied: {reason}")
        self._show(denied)
        self._tell_requester(denied)
        return Message(
            f"Request `{denied.id}` from <@{denied.requester_id}>: {decided_line(denied)}"
        )

    def expire(self, approval: Approval) -> bool:
        """Past its time, undecided: its buttons go, nothing runs, the requester is told."""
        if not self._requests.decide(approval.id, EXPIRED, None):
            return False
        expired = self._fresh(approval.id)
        self._audit(Actor(expired.workspace_id, expired.requester_id), expired, "expired")
        self._show(expired)
        self._tell_requester(expired)
        return True

    def expire_due(self) -> int:
        """Every pending request past its time (the poller sweeps); answers how many."""
        expired = 0
        for approval in self._requests.due(self._clock.now()):
            try:
                expired += self.expire(approval)
            except Exception:
                log.exception("expiring approval %s failed", approval.id)
        return expired

    # ------------------------------------------------------------ what is waiting
    def waiting(self, actor: Actor) -> tuple[list[Approval], list[Approval]]:
        """(requests waiting for this approver, this person's own pending requests)."""
        pending = self._requests.pending(actor.workspace_id)
        mine = [a for a in pending if a.requester_id == actor.user_id]
        others = [a for a in pending if a.requester_id != actor.user_id]
        if not others or not self._approvers.may_approve(actor.workspace_id, actor.user_id):
            return [], mine
        return others, mine

    # ------------------------------------------------------------ helpers
    def _fresh(self, approval_id: str) -> Approval:
        found = self._requests.get(approval_id)
        assert found is not None
        return found

    def _too_late(self, approval_id: str) -> Refused:
        return Refused(
            f"Someone decided this a moment before you. {decided_line(self._fresh(approval_id))}"
        )

    def _show(self, approval: Approval) -> None:
        """Every copy of the request (the channel's, or each approver's DM) as decided."""
        message = Message(
            f"{decided_line(approval)}\n<@{approval.requester_id}> asked to "
            f"{shortened(approval.summary)}.\n{approval.preview}",
            note=f"Request {approval.id}",
        )
        for conversation, ts in approval.posts:
            try:
                self._posts.update_request(approval.workspace_id, conversation, ts, message)
            except Exception:
                log.exception("updating approval %s in %s failed", approval.id, conversation)

    def _tell_requester(self, approval: Approval) -> None:
        text = f"Your request `{approval.id}` to {shortened(approval.summary)}: " + decided_line(
            approval
        )
        try:
            self._posts.tell(approval.workspace_id, approval.requester_id, Message(text))
        except Exception:
            log.exception("telling the requester of approval %s failed", approval.id)

    def _audit(self, actor: Actor, approval: Approval, outcome: str) -> None:
        self._store.audit(
            workspace_id=actor.workspace_id,
            user_id=actor.user_id,
            action=AUDITED,
            detail=f"{approval.id}: {approval.summary}"[:2000],
            outcome=outcome[:2000],
        )


def waiting_line(approval: Approval) -> str:
    """One pending request in a list (the App Home)."""
    return (
        f"`{approval.id}` <@{approval.requester_id}> asks to {shortened(approval.summary, 200)}"
        f" (until {when(approval.expires_at)})"
    )
