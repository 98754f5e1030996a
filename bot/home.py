"""The App Home tab: the workspace's connection, today's API budget, its rules (with their
pause, resume and delete buttons), recent activities, actions.

Built with slack_sdk's Block Kit models; `home_view(...)` answers the dict for views.publish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.cc.budget import BudgetView
from bot.connect.flow import ConnectionInfo
from bot.mrkdwn import escape, fit, safe
from bot.usecases.commands.budget import budget_lines
from bot.usecases.parent import shortened

MAX_ACTIVITIES = 10
MAX_RULES = 20  # two blocks each: within the Home tab's 100 with everything else
RULE_PAUSE, RULE_RESUME, RULE_DELETE = "home_rule_pause", "home_rule_resume", "home_rule_delete"
RULE_ACTIONS = {RULE_PAUSE: "pause", RULE_RESUME: "resume", RULE_DELETE: "delete"}
_STATE_EMOJI = {
    "initialized": ":hourglass_flowing_sand:",
    "processing": ":arrows_counterclockwise:",
    "completed": ":white_check_mark:",
    "failed": ":x:",
    "cancelled": ":no_entry_sign:",
    "timed_out": ":alarm_clock:",
}


class ActivityLine(Protocol):
    """What the home shows of an activity (bot.store.TrackedActivity has it)."""

    @property
    def activity_id(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def percent_done(self) -> int | None: ...

    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True)
class RuleShown:
    """A rule as the Home lists it: its id, its line in the bot's small markup (what
    `/cctag rules` says of it), and whether it is paused."""

    rule_id: int
    text: str
    paused: bool


def _slack_date(moment: datetime) -> str:
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _connection_blocks(info: ConnectionInfo | None) -> list[Block]:
    if info is None:
        text = (
            "*Constant Contact is not connected.* Connect an account to manage its tags, "
            "lists and contacts from Slack."
        )
        button = ButtonElement(text="Connect Constant Contact", action_id="home_connect")
        return [SectionBlock(text=MarkdownTextObject(text=text), accessory=button)]
    name = escape(shortened(info.account_name, 255)) if info.account_name else "An account"
    text = (
        f":link: *{name}* is connected, by <@{info.connected_by}> "
        f"on {_slack_date(info.connected_at)}."
    )
    reconnect = ButtonElement(text="Reconnect", action_id="home_connect")
    return [SectionBlock(text=MarkdownTextObject(text=text), accessory=reconnect)]


def _budget_block(
    calls_today: int, daily_quota: int, budget: BudgetView | None, now: datetime | None
) -> Block:
    if budget is not None:
        lines = ["*Constant Contact calls today*", *budget_lines(budget, now or datetime.now(UTC))]
        return SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))
    left = max(daily_quota - calls_today, 0)
    percent = round(100 * calls_today / daily_quota) if daily_quota else 0
    text = (
        f"*API calls today:* {calls_today:,} of {daily_quota:,} ({percent}%), "
        f"{left:,} left until 00:00 UTC."
    )
    return SectionBlock(text=MarkdownTextObject(text=text))


def _activity_line(activity: ActivityLine) -> str:
    """One activity: its state, its summary (escaped, shortened) and always its id and date."""
    emoji = _STATE_EMOJI.get(activity.state, ":grey_question:")
    progress = (
        f" {activity.percent_done}%"
        if activity.state == "processing" and activity.percent_done is not None
        else ""
    )
    head = f"{emoji} *{escape(activity.state)}*{progress} · "
    tail = f" · `{escape(activity.activity_id)}` · {_slack_date(activity.created_at)}"
    return head + fit(escape(shortened(activity.summary)), tail, limit=3000 - len(head))


def _activity_blocks(activities: Sequence[ActivityLine]) -> list[Block]:
    """One section each (a long summary never pushes the others past Slack's 3,000)."""
    blocks: list[Block] = [HeaderBlock(text="Recent activities")]
    if not activities:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No activities yet.")]))
        return blocks
    for activity in activities[:MAX_ACTIVITIES]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_activity_line(activity))))
    return blocks


def _rule_blocks(rules: Sequence[RuleShown]) -> list[Block]:
    """Each rule's line, then its buttons: the same actions as `/cctag rule ...`."""
    if not rules:
        return []
    blocks: list[Block] = [HeaderBlock(text="Rules")]
    for rule in rules[:MAX_RULES]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(safe(rule.text)))))
        value = str(rule.rule_id)
        toggle = (
            ButtonElement(text="Resume", action_id=RULE_RESUME, value=value, style="primary")
            if rule.paused
            else ButtonElement(text="Pause", action_id=RULE_PAUSE, value=value)
        )
        delete = ButtonElement(
            text="Delete",
            action_id=RULE_DELETE,
            value=value,
            style="danger",
            confirm=ConfirmObject(
                title="Delete this rule?",
                text=f"Rule {rule.rule_id} will not run again.",
                confirm="Delete",
                deny="Keep it",
            ),
        )
        blocks.append(ActionsBlock(block_id=f"home_rule_{rule.rule_id}", elements=[toggle, delete]))
    if len(rules) > MAX_RULES:
        more = f"… and {len(rules) - MAX_RULES} more: `/cctag rules` lists them all."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return blocks


def _action_buttons(connected: bool) -> list[Block]:
    if not connected:
        return []
    buttons = [
        ButtonElement(text="Create a tag", action_id="home_create", style="primary"),
        ButtonElement(text="Add tags", action_id="home_add"),
        ButtonElement(text="Remove tags", action_id="home_remove"),
        ButtonElement(text="Add to lists", action_id="home_lists"),
        ButtonElement(text="Delete tags", action_id="home_delete", style="danger"),
    ]
    return [ActionsBlock(block_id="home_actions", elements=buttons)]


MAX_APPROVALS = 10


def _approval_blocks(title: str, lines: Sequence[str], hint: str) -> list[Block]:
    """Requests waiting for an approver, one section each, in the small markup (escaped)."""
    if not lines:
        return []
    blocks: list[Block] = [HeaderBlock(text=title)]
    for line in lines[:MAX_APPROVALS]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(safe(line), limit=3000))))
    if len(lines) > MAX_APPROVALS:
        hint = f"…and {len(lines) - MAX_APPROVALS:,} more. {hint}"
    blocks += [ContextBlock(elements=[MarkdownTextObject(text=hint)]), DividerBlock()]
    return blocks


def home_view(
    connection_info: ConnectionInfo | None,
    calls_today: int,
    daily_quota: int,
    recent_activities: Sequence[ActivityLine],
    waiting_for_you: Sequence[str] = (),
    your_requests: Sequence[str] = (),
    rules: Sequence[RuleShown] = (),
    *,
    budget: BudgetView | None = None,
    now: datetime | None = None,
) -> dict[str, object]:
    """`waiting_for_you`: the requests this approver may decide; `your_requests`: this
    person's own requests that wait for an approver (bot/usecases/approvals.py); `budget`: the
    workspace's view of the shared budget (the same lines as `/cctag budget`); without it, only
    the key's count."""
    blocks: list[Block] = [
        HeaderBlock(text="cctag: Constant Contact tags"),
        *_connection_blocks(connection_info),
        *_action_buttons(connection_info is not None),
        DividerBlock(),
        *_approval_blocks(
            "Waiting for your approval",
            waiting_for_you,
            "Decide with `/cctag approve <id>` or `/cctag deny <id> <reason>`, or the buttons "
            "of the request's message.",
        ),
        *_approval_blocks(
            "Your requests waiting for an approver",
            your_requests,
            "You are told by direct message when one is decided.",
        ),
        _budget_block(calls_today, daily_quota, budget, now),
        DividerBlock(),
        *_rule_blocks(rules),
        *_activity_blocks(recent_activities),
    ]
    return View(type="home", blocks=blocks).to_dict()
