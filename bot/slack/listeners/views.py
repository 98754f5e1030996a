"""Submitted modals: checked inline while Slack waits, then the pipeline on our pool."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.cc.models import LimitError, validate_tag_name
from bot.slack import views
from bot.slack.conversation import ModalConversation
from bot.slack.files import (
    FileFormConversation,
    KeptLines,
    form_input,
    limits_before_files,
    reading,
)
from bot.slack.forms import SAVED_FORM, Form, block_errors, from_metadata, metadata, read_form
from bot.slack.listeners import Deps, actor_of
from bot.slack.views import (
    CONFIRM_VIEW,
    CREATE_FORM,
    DELETE_FORM,
    DENY_VIEW,
    LISTS_FORM,
    TAGGING_FORM,
)
from bot.usecases.commands.tags import create
from bot.usecases.inputs import Actor
from bot.usecases.ports import Pending
from bot.usecases.requests import Request, Turn


def form_title(form: Form) -> str:
    if form.form == "delete":
        return "Delete tags"
    if form.form == "lists":
        return "Add to lists" if form.action == "add" else "Remove from lists"
    return "Add tags" if form.action == "add" else "Remove tags"


def typed_value(view: dict[str, Any], block_id: str) -> str:
    actions: dict[str, Any] = view.get("state", {}).get("values", {}).get(block_id) or {}
    first: dict[str, Any] = next(iter(actions.values()), {})
    return str(first.get("value") or "")


def register(app: App, deps: Deps) -> None:
    pipeline = deps.pipeline

    def on_form(
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        actor = actor_of(context, body)
        form, errors = read_form(view)
        errors = errors or block_errors(form, limits_before_files(form))
        title = form_title(form)
        if errors:
            ack(response_action="errors", errors=errors)
            problems = "; ".join(errors.values())
            deps.later(lambda: pipeline.audit(actor, form.form, title, f"refused: {problems}"))
            return
        ack(response_action="update", view=views.working_view(title))

        def keep(meta: str) -> str:
            return pipeline.keep(actor, meta)

        talk = (
            FileFormConversation(client, str(view["id"]), title, "Started", form, keep=keep)
            if form.files or form.kept
            else ModalConversation(client, str(view["id"]), title, "Started", keep=keep)
        )
        request = Request(actor, title, form.channel_id, once=f"form:{view['id']}")

        def start(turn: Turn) -> None:
            turn.bulk(form_input(form, client, kept_lines(actor)), None, picked=True)

        deps.later(lambda: pipeline.run(request, talk, form.form, start))

    def on_confirm_view(
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        actor = actor_of(context, body)
        form = saved_form(actor, view)
        if form is None:
            gone = "This confirmation is no longer known; fill in the form again."
            ack(response_action="update", view=views.result_view("cctag", f":warning: {gone}"))
            return
        title = form_title(form)
        ack(response_action="update", view=views.working_view(title, "Starting…"))
        talk = ModalConversation(client, str(view["id"]), title, "Started")
        request = Request(actor, title, form.channel_id, once=f"confirmed:{view['id']}")
        # The yes of a button, of the shell and of a modal: one entry. The form's files and
        # kept emails are read again inside its guarded turn.
        pending = Pending(None, form.as_input(), form.channel_id)
        complete = reading(form, client, kept_lines(actor))
        deps.later(lambda: pipeline.confirmed(request, pending, talk, complete=complete))

    def kept_lines(actor: Actor) -> KeptLines:
        """Lines kept by this person in this workspace: another's key reads nothing."""
        return lambda key: pipeline.kept(actor, key)

    def saved_form(actor: Actor, view: dict[str, Any]) -> Form | None:
        """The form a confirmation stands for: saved server-side behind the key it carries."""
        key = str(metadata(view).get(SAVED_FORM) or "")
        if not key:
            return from_metadata(view.get("private_metadata") or "{}")
        saved = pipeline.kept(actor, key)
        return from_metadata(saved) if saved is not None else None

    def on_create_form(
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        source = typed_value(view, "source").strip() or None
        try:
            name = validate_tag_name(typed_value(view, "name"))
        except LimitError as exc:
            ack(response_action="errors", errors={"name": str(exc)})
            return
        ack(response_action="update", view=views.working_view("Create a tag"))
        talk = ModalConversation(client, str(view["id"]), "Create a tag", "Tag created")
        request = Request(actor_of(context, body), name, once=f"create:{view['id']}")

        def create_it(turn: Turn) -> None:
            create(turn, name, source)

        deps.later(lambda: pipeline.run(request, talk, "create", create_it))

    def on_deny_view(
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        """The reason given: `deny <id> <reason>` through the registry, told in the modal."""
        reason = " ".join(typed_value(view, "reason").split())
        if not reason:
            ack(response_action="errors", errors={"reason": "Say why; the requester is told it."})
            return
        approval_id = str(metadata(view).get("id") or "")
        ack(response_action="update", view=views.working_view("Deny the request"))
        talk = ModalConversation(client, str(view["id"]), "Deny the request", "Denied")
        request = Request(actor_of(context, body), f"deny {approval_id} {reason}")
        deps.later(lambda: pipeline.handle(request, talk))

    for callback_id in (TAGGING_FORM, LISTS_FORM, DELETE_FORM):
        app.view(callback_id)(on_form)
    app.view(CONFIRM_VIEW)(on_confirm_view)
    app.view(CREATE_FORM)(on_create_form)
    app.view(DENY_VIEW)(on_deny_view)
