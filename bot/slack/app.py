"""The bolt app: /cctag, its modals, buttons and type-ahead, translated to use cases.

Every listener acks first (within Slack's 3 seconds) and does anything that calls Constant
Contact or waits for the database in a lazy listener afterwards. Idempotency: a command's
work runs once per trigger_id, and an activity starts once per command, modal or confirmation
(store.claim_once), so a retried delivery or a double click never starts a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.cc.client import AccountClient
from bot.cc.errors import CCError
from bot.clock import Clock
from bot.ports import Accounts
from bot.settings import Settings
from bot.slack import views
from bot.slack.announcer import SlackAnnouncer
from bot.slack.forms import (
    BLOCK_NAME,
    BLOCK_TAG_SOURCE,
    BLOCK_TARGETS,
    BulkForm,
    picked_of,
    private_metadata,
    text_of,
)
from bot.slack.parsing import (
    BULK_ACTIONS,
    ParseError,
    parse_bulk,
    parse_create,
    parse_delete,
    split_command,
)
from bot.slack.pending import PendingPlans, PendingStart
from bot.store import Store
from bot.usecases import (
    NAME,
    Action,
    Actor,
    NameCache,
    Plan,
    Planner,
    Refused,
    activity_status,
    create_tag,
    precheck,
    precheck_delete,
    precheck_tag_name,
    record,
    start,
    tags_with_counts,
)

log = logging.getLogger(__name__)

COMMAND = "/cctag"
MODAL_COMMANDS = {"add", "remove", "delete", "lists", "unlists", "create"}
SLOW_COMMANDS = {"add", "remove", "delete", "lists", "unlists"}
SIMPLE_COMMANDS = {"status", "tags", "create"}
NOT_CONNECTED = (
    "No Constant Contact account is connected to this workspace yet; connect one with "
    "`/cctag connect`."
)
LAZY_WORKERS = 32
WORKING = "Working on it…"

# A subcommand another part of cctag adds (e.g. `connect`): called after the ack.
ExtraCommand = Callable[[dict[str, Any], Respond], None]


def create_app(
    settings: Settings,
    store: Store,
    accounts: Accounts,
    slack: WebClient,
    clock: Clock,
    *,
    oauth_settings: OAuthSettings | None = None,
    extra_commands: Mapping[str, ExtraCommand] | None = None,
    names: NameCache | None = None,
) -> App:
    """The bolt app. Single-workspace: `slack` carries the bot token. Multi-workspace: pass
    `oauth_settings` (installation store); `slack` then only gives the base URL and each
    request gets its workspace's client."""
    secret = settings.slack_signing_secret
    app = App(
        signing_secret=secret,
        client=slack,
        oauth_settings=oauth_settings,
        token_verification_enabled=False,
        process_before_response=True,
        request_verification_enabled=secret is not None,
        listener_executor=ThreadPoolExecutor(LAZY_WORKERS, thread_name_prefix="cctag-lazy"),
    )
    front = FrontEnd(store, accounts, names or NameCache(clock), PendingPlans(clock))
    front.extra_commands.update(extra_commands or {})
    front.register(app)
    return app


def ack_only(ack: Ack) -> None:
    ack()


def _team(body: dict[str, Any]) -> str:
    team = body.get("team")
    if isinstance(team, dict):
        return str(team.get("id", ""))
    return str(body.get("team_id") or body.get("user", {}).get("team_id", ""))


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    return str(user.get("id", "")) if isinstance(user, dict) else str(body.get("user_id", ""))


class FrontEnd:
    def __init__(
        self, store: Store, accounts: Accounts, names: NameCache, pending: PendingPlans
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.names = names
        self.pending = pending
        self.extra_commands: dict[str, ExtraCommand] = {}

    def register(self, app: App) -> None:
        app.command(COMMAND)(ack=self.command_ack, lazy=[self.command_work])
        app.view(views.CALLBACK_BULK)(ack=self.bulk_ack, lazy=[self.bulk_work])
        app.view(views.CALLBACK_DELETE)(ack=self.delete_ack, lazy=[self.delete_work])
        app.view(views.CALLBACK_CREATE)(ack=self.create_ack, lazy=[self.create_work])
        app.view(views.CALLBACK_CONFIRM)(ack=self.confirm_ack, lazy=[self.confirm_work])
        app.view_closed(views.CALLBACK_CONFIRM)(ack=ack_only, lazy=[self.confirm_closed])
        app.action(views.ACTION_CONFIRM)(ack=ack_only, lazy=[self.button_confirm])
        app.action(views.ACTION_CANCEL)(ack=ack_only, lazy=[self.button_cancel])
        app.options(views.ACTION_TAGS)(self.tag_options)
        app.options(views.ACTION_LISTS)(self.list_options)
        app.event("app_home_opened")(ack=ack_only, lazy=[self.home])

    # ------------------------------------------------------------------ helpers
    def _account(self, workspace_id: str) -> AccountClient:
        client = self.accounts.client_for(workspace_id)
        if client is None:
            raise Refused(NOT_CONNECTED)
        return client

    def _refused(self, actor: Actor, action: str, detail: str, refused: Refused) -> None:
        if refused.audited:
            return
        refused.audited = True
        record(self.store, actor, action, detail, f"refused: {refused.message}")

    def _guard(self, work: Callable[[], None], tell: Callable[[str], None]) -> None:
        """Run lazy work; a surprise is logged and told in one line, never as a stack trace."""
        try:
            work()
        except Refused as refused:
            tell(refused.message)
        except Exception:
            log.exception("lazy listener failed")
            tell(
                "Something went wrong on my side; it is logged. Check the channel before retrying."
            )

    # ------------------------------------------------------------------ /cctag
    def command_ack(self, ack: Ack, body: dict[str, Any]) -> None:
        name, rest = split_command(str(body.get("text", "")))
        if name in ("", "help"):
            ack(text=views.HELP, blocks=views.help_blocks())
        elif name in self.extra_commands:
            ack()
        elif name not in MODAL_COMMANDS | SIMPLE_COMMANDS:
            prefix = f"I do not know `{name}`.\n"
            ack(text=prefix + views.HELP, blocks=views.help_blocks(prefix))
        elif name in MODAL_COMMANDS and not rest:
            ack()
        elif (problem := _syntax_problem(name, rest)) is not None:
            ack(text=problem)
        else:
            ack(text=WORKING) if name in SLOW_COMMANDS else ack()

    def command_work(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        team = _team(body)
        if not self.store.claim_once(f"command:{team}:{body.get('trigger_id', '')}"):
            return  # a retried delivery of a command already handled
        actor = Actor(team, _user(body), str(body.get("channel_id", "")))
        name, rest = split_command(str(body.get("text", "")))

        def tell(message: str) -> None:
            respond(text=message, response_type="ephemeral")

        self._guard(lambda: self._command(name, rest, actor, body, client, respond), tell)

    def _command(
        self,
        name: str,
        rest: str,
        actor: Actor,
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        if name in self.extra_commands:
            self.extra_commands[name](body, respond)
            return
        if name in ("", "help") or name not in MODAL_COMMANDS | SIMPLE_COMMANDS:
            return
        problem = _syntax_problem(name, rest)
        if problem is not None:
            record(self.store, actor, name, f"/cctag {name} {rest}", f"refused: {problem}")
            return
        try:
            self._run_command(name, rest, actor, body, client, respond)
        except Refused as refused:
            self._refused(actor, name, f"/cctag {name} {rest}".strip(), refused)
            raise

    def _run_command(
        self,
        name: str,
        rest: str,
        actor: Actor,
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
    ) -> None:
        account = self._account(actor.workspace_id)
        if name in MODAL_COMMANDS and not rest:
            client.views_open(trigger_id=body["trigger_id"], view=_modal_for(name, actor))
        elif name == "create":
            tag_name, label = parse_create(rest)
            tag = create_tag(account, self.store, self.names, actor, tag_name, label)
            respond(text=f"Created the tag “{tag.name}”.", response_type="ephemeral")
        elif name == "tags":
            tags = tags_with_counts(account, self.names, actor)
            respond(text=views.tags_text(tags), blocks=views.tags_blocks(tags))
        elif name == "status":
            report = activity_status(account, self.store, actor, rest)
            respond(text=views.status_text(report), response_type="ephemeral")
        else:
            plan = self._plan(name, rest, account, actor)
            key = f"start:command:{actor.workspace_id}:{body.get('trigger_id', '')}"
            self._confirm_or_start_inline(plan, actor, account, client, respond, key)

    def _plan(self, name: str, rest: str, account: AccountClient, actor: Actor) -> Plan:
        planner = Planner(account, self.names, actor.workspace_id)
        if name == "delete":
            return planner.delete(parse_delete(rest))
        return planner.bulk(parse_bulk(BULK_ACTIONS[name], rest))

    def _confirm_or_start_inline(
        self,
        plan: Plan,
        actor: Actor,
        account: AccountClient,
        client: WebClient,
        respond: Respond,
        key: str,
    ) -> None:
        if plan.needs_confirmation:
            plan_id = self.pending.put(plan, actor)
            record(self.store, actor, plan.action, plan.summary, "asked to confirm")
            respond(
                text=views.preview_lines(plan),
                blocks=views.confirm_message(plan, plan_id),
                response_type="ephemeral",
            )
            return
        started = start(plan, account, self.store, actor, SlackAnnouncer(client), key)
        if started is not None:
            respond(text=_started_text(started.activity.activity_id), response_type="ephemeral")

    # ------------------------------------------------------------------ confirmation buttons
    def button_confirm(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        plan_id = str(body["actions"][0].get("value", ""))

        def tell(message: str) -> None:
            respond(text=message, replace_original=True)

        self._guard(lambda: self._confirmed_inline(plan_id, client, respond), tell)

    def _confirmed_inline(self, plan_id: str, client: WebClient, respond: Respond) -> None:
        pending = self.pending.get(plan_id)
        if pending is None:
            respond(text=EXPIRED, replace_original=True)
            return
        account = self._account(pending.actor.workspace_id)
        announcer = SlackAnnouncer(client)
        key = f"start:plan:{plan_id}"
        started = start(pending.plan, account, self.store, pending.actor, announcer, key)
        self.pending.drop(plan_id)
        if started is not None:
            respond(text=_started_text(started.activity.activity_id), replace_original=True)

    def button_cancel(self, body: dict[str, Any], respond: Respond) -> None:
        pending = self.pending.drop(str(body["actions"][0].get("value", "")))
        if pending is not None:
            record(
                self.store, pending.actor, pending.plan.action, pending.plan.summary, "cancelled"
            )
        respond(text="Cancelled; nothing was started.", replace_original=True)

    def _cancelled(self, pending: PendingStart) -> None:
        plan = pending.plan
        record(self.store, pending.actor, plan.action, plan.summary, "cancelled")

    # ------------------------------------------------------------------ add/remove/lists modal
    def bulk_ack(self, ack: Ack, view: dict[str, Any]) -> None:
        form = BulkForm.from_view(view)
        try:
            precheck(form.request())
        except Refused as refused:
            ack(response_action="errors", errors=form.error_blocks(refused.problems))
            return
        working = views.working_modal(views.TITLES[form.action], "Checking names and counts…")
        ack(response_action="update", view=working)

    def bulk_work(self, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        form = BulkForm.from_view(view)
        actor = Actor(_team(body), _user(body), form.channel_id)
        try:
            precheck(form.request())
        except Refused:
            return  # answered inline by the ack
        updater = _ViewUpdater(client, view["id"])

        def plan() -> None:
            account = self._account(actor.workspace_id)
            try:
                found = Planner(account, self.names, actor.workspace_id).bulk(form.request())
            except Refused as refused:
                self._refused(actor, form.action, _form_detail(form), refused)
                updater.show(views.bulk_modal(form.action, form.channel_id, form, refused.problems))
                return
            self._confirm_or_start_modal(found, actor, account, client, updater, view["id"])

        self._guard(plan, updater.failed)

    def _confirm_or_start_modal(
        self,
        plan: Plan,
        actor: Actor,
        account: AccountClient,
        client: WebClient,
        updater: _ViewUpdater,
        view_id: str,
    ) -> None:
        if plan.needs_confirmation:
            plan_id = self.pending.put(plan, actor)
            record(self.store, actor, plan.action, plan.summary, "asked to confirm")
            updater.show(views.confirm_modal(plan, plan_id))
            return
        self._start_in_modal(plan, actor, account, client, updater, f"start:view:{view_id}")

    def _start_in_modal(
        self,
        plan: Plan,
        actor: Actor,
        account: AccountClient,
        client: WebClient,
        updater: _ViewUpdater,
        key: str,
    ) -> None:
        started = start(plan, account, self.store, actor, SlackAnnouncer(client), key)
        if started is not None:
            text = _started_text(started.activity.activity_id) + f" in <#{actor.channel_id}>."
            updater.show(views.result_modal(views.TITLES[plan.action], text))

    # ------------------------------------------------------------------ delete modal
    def delete_ack(self, ack: Ack, view: dict[str, Any]) -> None:
        picked = picked_of(view["state"]["values"], BLOCK_TARGETS)
        try:
            precheck_delete([p.name for p in picked])
        except Refused as refused:
            ack(response_action="errors", errors={BLOCK_TARGETS: refused.message})
            return
        ack(response_action="update", view=views.working_modal("Delete tags", "Counting…"))

    def delete_work(self, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        picked = picked_of(view["state"]["values"], BLOCK_TARGETS)
        channel = private_metadata(view).get("channel", "")
        actor = Actor(_team(body), _user(body), channel)
        updater = _ViewUpdater(client, view["id"])

        def plan() -> None:
            names = [p.name for p in picked]
            try:
                precheck_delete(names)
            except Refused:
                return  # answered inline by the ack
            account = self._account(actor.workspace_id)
            try:
                found = Planner(account, self.names, actor.workspace_id).delete(names)
            except Refused as refused:
                self._refused(actor, Action.DELETE_TAGS, ", ".join(names), refused)
                updater.show(views.delete_modal(channel, picked, refused.problems))
                return
            self._confirm_or_start_modal(found, actor, account, client, updater, view["id"])

        self._guard(plan, updater.failed)

    # ------------------------------------------------------------------ create modal
    def create_ack(self, ack: Ack, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        try:
            precheck_tag_name(text_of(values, BLOCK_NAME), text_of(values, BLOCK_TAG_SOURCE))
        except Refused as refused:
            ack(response_action="errors", errors={BLOCK_NAME: refused.problems[NAME]})
            return
        ack(response_action="update", view=views.working_modal("Create a tag", "Creating…"))

    def create_work(self, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        name, label = text_of(values, BLOCK_NAME), text_of(values, BLOCK_TAG_SOURCE)
        channel = private_metadata(view).get("channel", "")
        actor = Actor(_team(body), _user(body), channel)
        updater = _ViewUpdater(client, view["id"])
        key = f"create:view:{view['id']}:{view.get('hash', '')}"

        def create() -> None:
            try:
                precheck_tag_name(name, label)
            except Refused:
                return  # answered inline by the ack
            if not self.store.claim_once(key):
                return
            account = self._account(actor.workspace_id)
            try:
                tag = create_tag(account, self.store, self.names, actor, name, label or None)
            except Refused as refused:
                updater.show(views.create_modal(channel, name, label, refused.problems))
                return
            updater.show(views.result_modal("Create a tag", f"Created the tag “{tag.name}”."))

        self._guard(create, updater.failed)

    # ------------------------------------------------------------------ confirmation modal
    def confirm_ack(self, ack: Ack) -> None:
        ack(response_action="update", view=views.working_modal("Starting", "Starting…"))

    def confirm_work(self, view: dict[str, Any], client: WebClient) -> None:
        plan_id = private_metadata(view).get("plan", "")
        updater = _ViewUpdater(client, view["id"])

        def confirmed() -> None:
            pending = self.pending.get(plan_id)
            if pending is None:
                updater.show(views.result_modal("Not started", EXPIRED))
                return
            account = self._account(pending.actor.workspace_id)
            key = f"start:plan:{plan_id}"
            self._start_in_modal(pending.plan, pending.actor, account, client, updater, key)
            self.pending.drop(plan_id)

        self._guard(confirmed, updater.failed)

    def confirm_closed(self, view: dict[str, Any]) -> None:
        pending = self.pending.drop(private_metadata(view).get("plan", ""))
        if pending is not None:
            record(
                self.store, pending.actor, pending.plan.action, pending.plan.summary, "cancelled"
            )

    # ------------------------------------------------------------------ type-ahead
    def tag_options(self, ack: Ack, body: dict[str, Any]) -> None:
        ack(options=self._options(body, self.names.search_tags))

    def list_options(self, ack: Ack, body: dict[str, Any]) -> None:
        ack(options=self._options(body, self.names.search_lists))

    def _options(
        self, body: dict[str, Any], search: Callable[[AccountClient, str, str], list[Any]]
    ) -> list[dict[str, Any]]:
        team = _team(body)
        account = self.accounts.client_for(team)
        if account is None:
            return []
        try:
            return views.name_options(search(account, team, str(body.get("value", ""))))
        except CCError as exc:
            log.warning("type-ahead could not load names: %s", exc)
            return []

    # ------------------------------------------------------------------ app home
    def home(self, event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        recent = self.store.recent_activities(_team(body), limit=10)
        try:
            client.views_publish(user_id=str(event.get("user", "")), view=views.home_view(recent))
        except SlackApiError as exc:
            log.warning("could not publish the home tab: %s", exc)


UNEXPECTED = "Something went wrong on my side; it is logged. Check the channel before retrying."
EXPIRED = "This confirmation expired or was already answered; nothing new was started."


def _started_text(activity_id: str) -> str:
    return f"Started activity `{activity_id}`; its progress is in the thread of my message"


def _form_detail(form: BulkForm) -> str:
    request = form.request()
    return f"{', '.join(request.targets)} from {request.source.kind.value}"


def _syntax_problem(name: str, rest: str) -> str | None:
    try:
        if name in BULK_ACTIONS and rest:
            parse_bulk(BULK_ACTIONS[name], rest)
        elif name == "delete" and rest:
            parse_delete(rest)
        elif name == "create" and rest:
            parse_create(rest)
        elif name == "status" and not rest:
            return "Give the activity's id: `/cctag status <activity_id>`"
    except ParseError as exc:
        return str(exc)
    return None


def _modal_for(name: str, actor: Actor) -> Any:
    channel = actor.channel_id
    if name == "delete":
        return views.delete_modal(channel)
    if name == "create":
        return views.create_modal(channel)
    return views.bulk_modal(BULK_ACTIONS[name], channel)


class _ViewUpdater:
    """views.update of one modal; a modal the user closed meanwhile is not an error."""

    def __init__(self, client: WebClient, view_id: str) -> None:
        self._client = client
        self._view_id = view_id

    def show(self, view: Any) -> None:
        try:
            self._client.views_update(view_id=self._view_id, view=view)
        except SlackApiError as exc:
            log.warning("could not update modal %s: %s", self._view_id, exc)

    def failed(self, message: str) -> None:
        self.show(views.result_modal("Not started", message))
