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
from bot.cc.models import Activity, LimitError, validate_tag_name
from bot.connect.flow import NOT_CONNECTED, ConnectFlow
from bot.permissions import ALL_ACTIVE, CONNECT, DELETE_TAGS, DISCONNECT, Permissions
from bot.ports import Accounts
from bot.slack import views
from bot.slack.forms import MAX_METADATA, Form, block_errors, from_metadata, read_form
from bot.slack.parse import (
    ParseError,
    parse_create,
    parse_delete,
    parse_lists,
    parse_tagging,
    split_command,
)
from bot.slack.workspaces import HomeData
from bot.store import NewActivity
from bot.usecases import (
    Actor,
    BulkInput,
    DeleteInput,
    Operations,
    Plan,
    Refused,
    SourceKind,
    check_limits,
)
from bot.usecases.catalog import matching
from bot.usecases.service import action_name

log = logging.getLogger(__name__)
BULK = ("add", "remove", "delete", "lists", "unlists")
MAX_BUTTON_VALUE = 2000
OOPS = "Something went wrong on our side; nothing was started. Try again in a moment."
# Commands that need no channel check of their own (connect and disconnect check their action).
UNCHECKED = ("help", "connect", "disconnect")


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


def _where(actor: Actor, channel: str | None) -> str | None:
    """The channel a permission is checked in: none for the App Home and the app's DM (whose
    activities are posted to the user's own id)."""
    return None if not channel or channel == actor.user_id else channel


def required_action(inp: BulkInput) -> str:
    """The permission a bulk request needs: deleting tags and all active contacts are
    restricted; the rest only need an allowed channel."""
    if isinstance(inp, DeleteInput):
        return DELETE_TAGS
    if inp.source.kind == SourceKind.ALL_ACTIVE:
        return ALL_ACTIVE
    return action_name(inp)


class Handlers:
    def __init__(
        self,
        operations: Operations,
        accounts: Accounts,
        background: Executor,
        *,
        permissions: Permissions | None = None,
        connect: ConnectFlow | None = None,
        home: HomeData | None = None,
    ) -> None:
        self.background = background
        self.ops = operations
        self.accounts = accounts
        self.store = operations.store
        self.catalog = operations.catalog
        self.permissions = permissions
        self.connect = connect
        self.home = home

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

    def _permit(self, actor: Actor, channel: str | None, action: str) -> None:
        """Refused (already told to the audit log by Permissions.check) unless allowed."""
        if self.permissions is None:
            return
        where = _where(actor, channel)
        decision = self.permissions.check(actor.workspace_id, actor.user_id, where, action)
        if not decision.allowed:
            refused = Refused(decision.reason)
            refused.audited = True
            raise refused

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

        channel = str(body.get("channel_id", ""))
        if name not in UNCHECKED:
            self._permit(actor, channel, name)
        if name == "help":
            say(views.help_reply())
        elif name == "connect":
            say(self._connect_link(actor, channel))
        elif name == "disconnect":
            say(self._disconnect(actor, channel))
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

    def _connect_link(self, actor: Actor, channel: str | None) -> views.Reply:
        if self.connect is None:
            raise Refused(views.CONNECT_NOT_SET_UP)
        self._permit(actor, channel, CONNECT)
        return views.connect_reply(self.connect.start_connect(actor.workspace_id, actor.user_id))

    def _disconnect(self, actor: Actor, channel: str | None) -> views.Reply:
        if self.connect is None:
            raise Refused(views.CONNECT_NOT_SET_UP)
        self._permit(actor, channel, DISCONNECT)
        removed = self.connect.disconnect(actor.workspace_id, actor.user_id)
        return views.disconnected_reply(removed)

    def _create(self, actor: Actor, rest: str) -> views.Reply:
        name, source = parse_create(rest)
        if not name:
            raise Refused("Name the tag: `/cctag create <tag name> [--source <label>]`")
        tag = self.ops.create_tag(actor, self._account(actor), name, source)
        return views.created_reply(tag)

    def _open_form(self, actor: Actor, name: str, body: dict[str, Any], client: WebClient) -> None:
        channel = str(body.get("channel_id", ""))
        if name in ("add", "remove"):
            view = views.tagging_form(name, channel)
        elif name == "delete":
            view = views.delete_form(channel)
        else:
            view = views.lists_form("add" if name == "lists" else "remove", channel)
        if name == "delete":
            self._permit(actor, channel, DELETE_TAGS)
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
        self._permit(actor, channel, required_action(inp))
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
            channel = str(value.get("c") or (body.get("channel") or {}).get("id", ""))
            self._permit(actor, channel, required_action(inp))
            account = self._account(actor)
            plan = self.ops.plan(actor, account, inp)
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

        tell = _warn_in_view(client, view_id, title)
        with self._guard(actor, form.form, title, tell):
            self._permit(actor, form.channel_id, required_action(form.as_input()))
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

        tell = _warn_in_view(client, view_id, title)
        with self._guard(actor, form.form, title, tell):
            self._permit(actor, form.channel_id, required_action(form.as_input()))
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

    # ------------------------------------------------------------ the App Home
    def on_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        actor = _actor(context, {**body, "user_id": event.get("user")})
        self._publish_home(actor, str(event["user"]), client)

    def _publish_home(self, actor: Actor, user: str, client: WebClient) -> None:
        view = self.home.view(actor.workspace_id) if self.home else views.home_view()
        client.views_publish(user_id=user, view=view)

    def on_home_button(
        self,
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        """A home button: the matching form (its activity is posted in the app's DM)."""
        ack()
        actor = _actor(context, body)
        trigger = str(body.get("trigger_id") or "")
        name = str(action.get("action_id", ""))
        self._later(lambda: self._home_button(actor, name, trigger, client))

    def _home_button(self, actor: Actor, name: str, trigger: str, client: WebClient) -> None:
        def tell(message: str) -> None:
            shown = views.result_view("cctag", f":warning: {message}", "Nothing was changed.")
            client.views_open(trigger_id=trigger, view=shown)

        with self._guard(actor, name, "from the App Home", tell):
            view = self._home_form(actor, name)
            client.views_open(trigger_id=trigger, view=view)
            self.ops.audit(actor, name, "", "form opened")

    def _home_form(self, actor: Actor, name: str) -> dict[str, Any]:
        """The modal a home button opens; forms post their activity to the user's own DM."""
        dm = actor.user_id
        if name == views.HOME_CONNECT:
            if self.connect is None:
                raise Refused(views.CONNECT_NOT_SET_UP)
            self._permit(actor, None, CONNECT)
            return views.connect_view(self.connect.start_connect(actor.workspace_id, dm))
        if name == "home_delete":
            self._permit(actor, None, DELETE_TAGS)
        account = self._account(actor)
        if name == "home_create":
            return views.create_form()
        if name == "home_delete":
            return views.delete_form(dm)
        if name == "home_lists":
            self._later(lambda: self._warm(actor, account, lists=True))
            return views.lists_form("add", dm)
        self._later(lambda: self._warm(actor, account, lists=False))
        return views.tagging_form("remove" if name == "home_remove" else "add", dm)

    def _warm(self, actor: Actor, account: AccountClient, *, lists: bool) -> None:
        """Fill the type-ahead cache while the user looks at the form."""
        if lists:
            self.catalog.lists(actor.workspace_id, account)
        else:
            self.catalog.tags(actor.workspace_id, account)

    def on_link_click(self, ack: Ack) -> None:
        """A URL button still sends its click; nothing to do but answer."""
        ack()

    def on_create_form(
        self,
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        actor = _actor(context, body)
        name = str(_typed_value(view, "name") or "")
        source = str(_typed_value(view, "source") or "").strip() or None
        try:
            name = validate_tag_name(name)
        except LimitError as exc:
            ack(response_action="errors", errors={"name": str(exc)})
            return
        ack(response_action="update", view=views.working_view("Create a tag"))
        view_id = str(view["id"])
        self._later(lambda: self._create_from_view(actor, name, source, view_id, client))

    def _create_from_view(
        self, actor: Actor, name: str, source: str | None, view_id: str, client: WebClient
    ) -> None:
        if not self.store.claim_once(f"create:{view_id}"):
            return

        tell = _warn_in_view(client, view_id, "Create a tag")
        with self._guard(actor, "create", name, tell):
            tag = self.ops.create_tag(actor, self._account(actor), name, source)
            done = views.created_reply(tag)
            client.views_update(view_id=view_id, view=views.result_view("Tag created", done.text))


def _typed_value(view: dict[str, Any], block_id: str) -> Any:
    actions: dict[str, Any] = view.get("state", {}).get("values", {}).get(block_id) or {}
    first: dict[str, Any] = next(iter(actions.values()), {})
    return first.get("value")


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


def _warn_in_view(client: WebClient, view_id: str, title: str) -> Callable[[str], None]:
    """How a refusal is told in a modal that is already open: the view says why, changes nothing."""

    def tell(message: str) -> None:
        shown = views.result_view(title, f":warning: {message}", "Nothing was changed.")
        client.views_update(view_id=view_id, view=shown)

    return tell
