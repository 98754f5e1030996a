"""every, rules and rule: a bulk line on a schedule, the workspace's rules, and changing one.

Making a rule needs the permission its command needs (the command's own, and the restricted
one for all active contacts), previews what it would do now, and keeps it; each run is then an
ordinary request of its creator, run by the worker (bot/usecases/rules/runner.py). Where the
line would need an approver, the rule waits for one (bot/usecases/approvals.py) and is kept
only once approved; its runs then go through as approved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.usecases.approvals import StalePlan, fingerprint
from bot.usecases.commands.command import Command
from bot.usecases.grammar import parse_bulk_line, parse_every, parse_rule_action
from bot.usecases.ports import Message
from bot.usecases.rules.book import (
    STALE_RULE,
    KnowsTimeZones,
    RuleBook,
    asked_message,
    made_message,
    rules_message,
)

if TYPE_CHECKING:
    from bot.usecases.requests import Turn


def _every(turn: Turn, rest: str) -> None:
    """Planned, then kept; or, when its line needs an approver (a restricted line, or more
    contacts than approvals allow, asked without the right), it waits for one. Approved
    (`turn.approval`), it is planned again as its creator, checked, and kept naming its
    approver."""
    from bot.usecases.commands import REGISTRY
    from bot.usecases.requests import preview, required_action

    every = parse_every(rest)
    head, _, args = every.line.partition(" ")
    inp = parse_bulk_line(head, args)
    permission = REGISTRY[head].permission
    if permission:
        turn.permit(permission)
    turn.permit(required_action(inp))  # without the right: refused, or marked to be approved
    account = turn.account()
    talk = turn.conversation
    tz = talk.time_zone(turn.actor.user_id) if isinstance(talk, KnowsTimeZones) else None
    book = RuleBook(turn.ops)
    planned = book.planned(
        turn.actor,
        account,
        every.when,
        every.line,
        inp,
        channel=turn.channel or turn.actor.user_id,
        tz=tz,
        notify=lambda text: turn.say(Message(text)),
    )
    shown = preview(planned.plan)
    if turn.approval is not None:
        approval = turn.approval
        if fingerprint(planned.asked) != approval.fingerprint:
            raise StalePlan(STALE_RULE)
        made = book.keep(
            turn.actor, planned, approved_by=approval.decided_by, approved_at=approval.decided_at
        )
        turn.say(made_message(made, shown))
        return
    approvals = turn.pipeline.approvals
    if approvals is not None and (turn.frozen or approvals.too_big(turn.actor, planned.plan)):
        line = f"every {every.when} {every.line}"
        asked = asked_message(planned, shown)
        turn.say(approvals.freeze(turn.actor, turn.channel, planned.asked, asked, line, None))
        return
    turn.say(made_message(book.keep(turn.actor, planned), shown))


def _rules(turn: Turn, rest: str) -> None:
    rules = RuleBook(turn.ops).listed(turn.actor.workspace_id)
    turn.audit("rules", "", f"listed {len(rules)}")
    turn.say(rules_message(rules))


def _rule(turn: Turn, rest: str) -> None:
    """The creator may change their rule; anyone else needs the right its command needs in
    the rule's channel (deleting a rule of all active contacts is for whom may run it)."""
    from bot.usecases.requests import required_action

    verb, rule_id = parse_rule_action(rest)
    book = RuleBook(turn.ops)
    rule = book.get(turn.actor, rule_id)
    if rule.creator_id != turn.actor.user_id:
        head, _, args = rule.line.partition(" ")
        action = required_action(parse_bulk_line(head, args))
        turn.pipeline.permit(turn.actor, rule.channel_id, action)
    turn.say(book.change(turn.actor, verb, rule_id))


COMMANDS = (
    Command(
        "every",
        (
            "`/cctag every <day|weekday|monday…|month on <1-28>> at <HH:MM> <add|remove|lists|"
            "unlists line>`: a rule that runs the line on a schedule, in your Slack time zone "
            "(campaign sources take `latest`: the last email sent)",
        ),
        _every,
    ),
    Command(
        "rules",
        ("`/cctag rules` / `/cctag rule pause|resume|delete <id>`: the rules, and changing one",),
        _rules,
        permission="rules",
    ),
    Command("rule", (), _rule, permission="rules"),
)
