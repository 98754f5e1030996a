"""The listeners: ack first, then the use cases, then one answer (ephemeral, modal or channel)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cc.client import AccountClient
from bot.cc.models import Activity
from bot.ports import Accounts
from bot.slack import views
from bot.slack.forms import MAX_METADATA, Form, block_errors, from_metadata, read_form
from bot.slack.parse import (
    ParseError,
    parse_delete,
    parse_lists,
    parse_single_name,
    parse_tagging,
    split_command,
)
from bot.store import NewActivity
from bot.usecases import Actor, BulkInput, Operations, Plan, Refused, check_limits
from bot.usecases.catalog import matching

log = logging.getLogger(__name__)
BULK = ("add", "remove", "delete", "lists", "unlists")
MAX_BUTTON_VALUE = 2000
OOPS = "Something went wrong on our side; nothing was started. Try again in a moment."
NOT_CONNECTED = (
    "This workspace has no Constant Contact account connected yet: run `/cctag connect`."
)


def _actor(context: BoltContext, body: dict[str, Any]) -> Actor:
    team = context.team_id or body.get("team_id") or (body.get("team") or {}).get("id") or ""
    user = context.user_id or body.get("user_id") or (body.get("user") or {}).get("id") or ""
    return Actor(str(team), str(user))


def parse_bulk_line(name: str, rest: str) -> BulkInput:
    if name == "delete":
        return parse_delete(rest)
    if name in ("lists", "unlists"):
        return parse_lists(name, rest)
    return parse_tagging(name, rest)


def _form_title(form: Form) -> str:
    if form.form == "delete":
        return "Delete tags"
    if form.form == "lists":
        return "Add to lists" if form.action == "add" else "Remove from lists"
    return "Add tags" if form.action == "add" else "Remove tags"


class Handlers:
    def __init__(self, operations: Operations, accounts: Accounts, background: Executor) -> None:
        self.background = background
        self.ops = operations
        self.accounts = accounts
        self.store = operations.store
        self.catalog = operations.catalog

    # ------------------------------------------------------------ plumbing
    def _later(self, work: Callable[[], None]) -> None:
        """After the ack: run on the work pool, so slow Constant Contact calls never hold up
        bolt's listener threads (and with them the acks of other requests)."""
        self.background.submit(_logged, work)

    def _account(self, actor: Actor) -> AccountClient:
        account = self.accounts.client_for(actor.workspace_id)
        if account is None:
            raise Refused(NOT_CONNECTED)
        return account

    def _refuse(self, actor: Actor, action: str, detail: str, message: str) -> None:
        self.ops.audit(actor, action, detail, f"refused: {message}")

    def _guard(self, actor: Actor, action: str, detail: str, tell: Callable[[str], None]) -> Any:
        """A context that turns every failure into a plain sentence for the user."""
        return _Guard(self, actor, action, detail, tell)

    # ------------------------------------------------------------ /cctag
    def on_command(
        self,
        ack: Ack,
        body: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ack()
        self._later(lambda: self._command(body, respond, client, context))

    def _command(
        self, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        trigger = str(body.get("trigger_id") or "")
        if trigger and not self.store.claim_once(f"command:{trigger}"):
            return  # a retried delivery of a command already handled
        actor = _actor(context, body)
        text = str(body.get("text") or "")
        command = split_command(text)

        def tell(message: str) -> None:
            reply = views.refusal(message)
            respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")

        with self._guard(actor, command.name, text, tell):
            self._route(actor, command.name, command.rest, body, respond, client)

    def _route(
        self,
        actor: Actor,
        name: str,
        rest: str,
        body: dict[str, Any],
        respond: Respond,
        client: WebClient,
    ) -> None:
        def say(reply: views.Reply) -> None:
            respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")

        if name == "help":
            say(views.help_reply())
        elif name == "create":
            say(self._create(actor, rest))
        elif name == "tags":
            say(views.tags_reply(self.ops.tag_counts(actor, self._account(actor))))
        elif name == "status":
            say(views.status_reply(self.ops.status(actor, self._account(actor), rest)))
        elif name in BULK and not rest:
            self._open_form(actor, name, body, client)
        elif name in BULK:
            self._one_line(actor, name, rest, str(body.get("channel_id", "")), client, say)
        else:
            self._refuse(actor, name, rest, "unknown command")
            reply = views.reply(f"I do not know `{name}`.\n{views.HELP_TEXT}")
            say(reply)

    def _create(self, actor: Actor, rest: str) -> views.Reply:
        name = parse_single_name(rest)
        if not name:
            raise Refused("Name the tag: `/cctag create <tag name>`")
        return views.created_reply(self.ops.create_tag(actor, self._account(actor), name))

    def _open_form(self, actor: Actor, name: str, body: dict[str, Any], client: WebClient) -> None:
        channel = str(body.get("channel_id", ""))
        if name in ("add", "remove"):
            view = views.tagging_form(name, channel)
        elif name == "delete":
            view = views.delete_form(channel)
        else:
            view = views.lists_form("add" if name == "lists" else "remove", channel)
        account = self._account(actor)
        client.views_open(trigger_id=body["trigger_id"], view=view)
        self.ops.audit(actor, name, "", "form opened")
        # Warm the type-ahead cache while the user looks at the form.
        self.catalog.tags(actor.workspace_id, account)
        if name in ("lists", "unlists", "add", "remove"):
            self.catalog.lists(actor.workspace_id, account)

    def _one_line(
        self,
        actor: Actor,
        name: str,
        rest: str,
        channel: str,
        client: WebClient,
        say: Callable[[views.Reply], None],
    ) -> None:
        inp = parse_bulk_line(name, rest)
        account = self._account(actor)
        plan = self.ops.plan(actor, account, inp)
        if plan.needs_confirmation:
            value = json.dumps({"k": uuid.uuid4().hex, "t": f"{name} {rest}", "c": channel})
            if len(value) > MAX_BUTTON_VALUE:
                raise Refused("This command is too long to confirm; split it into smaller ones")
            self.ops.audit(actor, plan.kind.value, plan.summary, "confirmation asked")
            say(views.confirm_reply(plan, value))
            return
        activity = self.launch(actor, channel, client, account, plan)
        say(views.started_reply(plan.summary, activity))

    # ------------------------------------------------------------ starting an activity
    def launch(
        self, actor: Actor, channel: str, client: WebClient, account: AccountClient, plan: Plan
    ) -> Activity:
        """One parent message, then the activity, then tracking (the poller does the thread)."""
        first = views.parent_message(actor.user_id, plan.summary, "starting…")
        try:
            posted = client.chat_postMessage(channel=channel, text=first.text, blocks=first.blocks)
        except SlackApiError as exc:
            raise Refused(
                f"I cannot post in this channel ({exc.response.get('error')}); invite me with "
                "`/invite @cctag` and try again"
            ) from None
        parent_ts = str(posted["ts"])
        try:
            activity = self.ops.start(actor, account, plan)
        except Exception as exc:
            why = exc.message if isinstance(exc, Refused) else "something went wrong on our side"
            failed = views.parent_failed(actor.user_id, plan.summary, why)
            client.chat_update(
                channel=channel, ts=parent_ts, text=failed.text, blocks=failed.blocks
            )
            raise
        self._track(actor, channel, parent_ts, plan, activity)
        shown = views.parent_message(
            actor.user_id, plan.summary, activity.state, activity.activity_id
        )
        client.chat_update(channel=channel, ts=parent_ts, text=shown.text, blocks=shown.blocks)
        return activity

    def _track(
        self, actor: Actor, channel: str, parent_ts: str, plan: Plan, activity: Activity
    ) -> None:
        self.store.track_activity(
            NewActivity(
                workspace_id=actor.workspace_id,
                channel_id=channel,
                parent_ts=parent_ts,
                requester_id=actor.user_id,
                kind=plan.kind.value,
                summary=plan.summary,
                activity_id=activity.activity_id,
                state=activity.state,
                percent_done=activity.percent_done,
            )
        )

    # ------------------------------------------------------------ one-line confirmations
    def on_confirm_click(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        ack()
        self._later(lambda: self._confirmed(body, action, respond, client, context))

    def _confirmed(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        client: WebClient,
        context: BoltContext,
    ) -> None:
        value = json.loads(action.get("value") or "{}")
        if not self.store.claim_once(f"confirm:{value.get('k')}"):
            return  # a double click, or already cancelled
        actor = _actor(context, body)
        text = str(value.get("t", ""))

        def tell(message: str) -> None:
            reply = views.refusal(message)
            respond(text=reply.text, blocks=reply.blocks, replace_original=True)

        with self._guard(actor, "confirm", text, tell):
            working = views.reply(":hourglass_flowing_sand: Starting…")
            respond(text=working.text, blocks=working.blocks, replace_original=True)
            command = split_command(text)
            inp = parse_bulk_line(command.name, command.rest)
            account = self._account(actor)
            plan = self.ops.plan(actor, account, inp)
            channel = str(value.get("c") or (body.get("channel") or {}).get("id", ""))
            activity = self.launch(actor, channel, client, account, plan)
            done = views.started_reply(plan.summary, activity)
            respond(text=done.text, blocks=done.blocks, replace_original=True)

    def on_cancel_click(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        context: BoltContext,
    ) -> None:
        ack()
        self._later(lambda: self._cancelled(body, action, respond, context))

    def _cancelled(
        self, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        value = json.loads(action.get("value") or "{}")
        if not self.store.claim_once(f"confirm:{value.get('k')}"):
            return
        actor = _actor(context, body)
        self.ops.audit(actor, "confirm", str(value.get("t", "")), "cancelled")
        reply = views.reply("Cancelled; nothing was changed.")
        respond(text=reply.text, blocks=reply.blocks, replace_original=True)

    # ------------------------------------------------------------ modals
    def on_form(
        self,
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        actor = _actor(context, body)
        form, errors = read_form(view)
        if not errors:
            errors = block_errors(form, check_limits(form.as_input()))
        title = _form_title(form)
        if errors:
            ack(response_action="errors", errors=errors)
            problems = "; ".join(errors.values())
            self._later(lambda: self._refuse(actor, form.form, title, problems))
            return
        ack(response_action="update", view=views.working_view(title))
        view_id = str(view["id"])
        self._later(lambda: self._after_form(actor, form, view_id, client))

    def _after_form(self, actor: Actor, form: Form, view_id: str, client: WebClient) -> None:
        if not self.store.claim_once(f"form:{view_id}"):
            return  # a double submit or a retried delivery of the same form
        title = _form_title(form)

        def tell(message: str) -> None:
            client.views_update(
                view_id=view_id,
                view=views.result_view(title, f":warning: {message}", "Nothing was changed."),
            )

        with self._guard(actor, form.form, title, tell):
            account = self._account(actor)
            named = self._named(actor, account, form)
            plan = self.ops.plan(actor, account, named.as_input())
            if plan.needs_confirmation:
                meta = named.to_metadata()
                if len(meta) > MAX_METADATA:
                    raise Refused("Too much to confirm in a form; split it into smaller requests")
                self.ops.audit(actor, plan.kind.value, plan.summary, "confirmation asked")
                confirm = views.confirm_view(title, plan, {})
                confirm["private_metadata"] = meta
                client.views_update(view_id=view_id, view=confirm)
                return
            self._start_from_view(actor, named, plan, view_id, client)

    def _named(self, actor: Actor, account: AccountClient, form: Form) -> Form:
        tags = {t.tag_id: t.name for t in self.catalog.tags(actor.workspace_id, account)}
        lists: dict[str, str] = {}
        if form.form == "lists" or form.source.kind.value == "lists":
            lists = {x.list_id: x.name for x in self.catalog.lists(actor.workspace_id, account)}
        return form.named(lambda i: tags.get(i, i), lambda i: lists.get(i, i))

    def _start_from_view(
        self, actor: Actor, form: Form, plan: Plan, view_id: str, client: WebClient
    ) -> None:
        activity = self.launch(actor, form.channel_id, client, self._account(actor), plan)
        text = (
            f"Started: {plan.summary}.\nActivity `{activity.activity_id}` is *{activity.state}*; "
            "its progress follows in the channel thread."
        )
        client.views_update(view_id=view_id, view=views.result_view("Started", text))

    def on_confirm_view(
        self,
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        form = from_metadata(view.get("private_metadata") or "{}")
        title = _form_title(form)
        ack(response_action="update", view=views.working_view(title, "Starting…"))
        actor = _actor(context, body)
        view_id = str(view["id"])
        self._later(lambda: self._confirmed_view(actor, form, view_id, client))

    def _confirmed_view(self, actor: Actor, form: Form, view_id: str, client: WebClient) -> None:
        if not self.store.claim_once(f"confirmed:{view_id}"):
            return
        title = _form_title(form)

        def tell(message: str) -> None:
            client.views_update(
                view_id=view_id,
                view=views.result_view(title, f":warning: {message}", "Nothing was changed."),
            )

        with self._guard(actor, form.form, title, tell):
            account = self._account(actor)
            plan = self.ops.plan(actor, account, form.as_input())
            self._start_from_view(actor, form, plan, view_id, client)

    # ------------------------------------------------------------ type-ahead
    def on_tag_options(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        self._options(ack, body, context, "tags")

    def on_list_options(self, ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        self._options(ack, body, context, "lists")

    def _options(self, ack: Ack, body: dict[str, Any], context: BoltContext, what: str) -> None:
        actor = _actor(context, body)
        try:
            account = self._account(actor)
            if what == "tags":
                pairs = [(t.tag_id, t.name) for t in self.catalog.tags(actor.workspace_id, account)]
            else:
                found = self.catalog.lists(actor.workspace_id, account)
                pairs = [(x.list_id, x.name) for x in found]
        except Exception as exc:  # a menu shows nothing rather than an error
            log.warning("options for %s failed: %r", what, exc)
            pairs = []
        typed = str(body.get("value") or "")
        ack(options=[views.option(value, text) for value, text in matching(pairs, typed)])

    # ------------------------------------------------------------ events
    def on_home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            client.views_publish(user_id=event["user"], view=views.home_view())


def _logged(work: Callable[[], None]) -> None:
    try:
        work()
    except Exception:
        log.exception("background work failed")


class _Guard:
    """Refusals and parse errors become sentences; anything else is logged, never shown raw."""

    def __init__(
        self,
        handlers: Handlers,
        actor: Actor,
        action: str,
        detail: str,
        tell: Callable[[str], None],
    ) -> None:
        self._handlers = handlers
        self._actor = actor
        self._action = action
        self._detail = detail
        self._tell = tell

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        if isinstance(exc, ParseError):
            self._handlers._refuse(self._actor, self._action, self._detail, str(exc))
            message = f"{exc}. See `/cctag help`."
        elif isinstance(exc, Refused):
            message = exc.message
            if not exc.audited:
                self._handlers._refuse(self._actor, self._action, self._detail, message)
        else:
            log.exception("failed: %s %s", self._action, self._detail, exc_info=exc)
            self._handlers._refuse(self._actor, self._action, self._detail, f"error: {exc!r}")
            message = OOPS
        try:
            self._tell(message)
        except Exception:
            log.exception("could not tell the user: %s", message)
        return True
