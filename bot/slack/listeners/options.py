"""Type-ahead menus of the modals: tags and lists matching what is typed."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.slack import views
from bot.slack.listeners import Deps, actor_of
from bot.slack.views import LIST_SELECT, TAG_SELECT
from bot.usecases.catalog import matching

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    pipeline = deps.pipeline

    def pairs(body: dict[str, Any], context: BoltContext, what: str) -> list[tuple[str, str]]:
        actor = actor_of(context, body)
        try:
            account = pipeline.account(actor)
            catalog = pipeline.ops.catalog
            if what == "tags":
                return [(t.tag_id, t.name) for t in catalog.tags(actor.workspace_id, account)]
            return [(x.list_id, x.name) for x in catalog.lists(actor.workspace_id, account)]
        except Exception as exc:  # a menu shows nothing rather than an error
            log.warning("options for %s failed: %r", what, exc)
            return []

    def answer(ack: Ack, body: dict[str, Any], context: BoltContext, what: str) -> None:
        typed = str(body.get("value") or "")
        found = matching(pairs(body, context, what), typed)
        ack(options=[views.option(value, text) for value, text in found])

    def on_tags(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        answer(ack, body, context, "tags")

    def on_lists(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        answer(ack, body, context, "lists")

    app.options(TAG_SELECT)(on_tags)
    app.options(LIST_SELECT)(on_lists)
