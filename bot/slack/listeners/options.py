"""Type-ahead menus of the modals: tags and lists matching what is typed."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.slack import views
from bot.slack.listeners import Deps, actor_of
from bot.slack.views import CAMPAIGN_SELECT, LINK_SELECT, LIST_SELECT, TAG_SELECT
from bot.usecases.catalog import matching
from bot.usecases.names import distinct_labels

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    pipeline = deps.pipeline

    def pairs(body: dict[str, Any], context: BoltContext, what: str) -> list[tuple[str, str]]:
        actor = actor_of(context, body)
        try:
            account = pipeline.account(actor)
            catalog = pipeline.catalog
            within = catalog.menu_deadline
            if what == "tags":
                tags = catalog.tags(actor.workspace_id, account, within=within)
                return [(t.tag_id, t.name) for t in tags]
            lists = catalog.lists(actor.workspace_id, account, within=within)
            return [(x.list_id, x.name) for x in lists]
        except Exception as exc:  # a menu shows nothing rather than an error
            log.warning("options for %s failed: %r", what, exc)
            return []

    def answer(ack: Ack, body: dict[str, Any], context: BoltContext, what: str) -> None:
        typed = str(body.get("value") or "")
        found = matching(pairs(body, context, what), typed)
        labels = distinct_labels(found, views.MAX_OPTION_TEXT)
        values = [value for value, _ in found]
        ack(options=[views.option(v, label) for v, label in zip(values, labels, strict=True)])

    def on_tags(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        answer(ack, body, context, "tags")

    def on_lists(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        answer(ack, body, context, "lists")

    def on_campaigns(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack(options=_campaign_options(body, context, ""))

    def on_links(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        campaign = _picked_campaign(body)
        ack(options=_campaign_options(body, context, campaign) if campaign else [])

    def _campaign_options(
        body: dict[str, Any], context: BoltContext, campaign: str
    ) -> list[dict[str, Any]]:
        """Recent campaigns, or the links of `campaign` (a picked option's value)."""
        actor = actor_of(context, body)
        menus = pipeline.menus
        try:
            account = pipeline.account(actor)
            if campaign:
                name = menus.text_of(campaign)
                texts = menus.links(actor.workspace_id, account, name) if name else []
            else:
                texts = menus.campaigns(actor.workspace_id, account)
        except Exception as exc:  # a menu shows nothing rather than an error
            log.warning("options for %s failed: %r", campaign or "campaigns", exc)
            return []
        found = matching([(menus.value_of(t), t) for t in texts], str(body.get("value") or ""))
        return [views.option(value, text) for value, text in found]

    app.options(TAG_SELECT)(on_tags)
    app.options(LIST_SELECT)(on_lists)
    app.options(CAMPAIGN_SELECT)(on_campaigns)
    app.options(LINK_SELECT)(on_links)


def _picked_campaign(body: dict[str, Any]) -> str:
    """The campaign already picked in the modal Slack sends with the request, if any."""
    values = (body.get("view") or {}).get("state", {}).get("values", {})
    chosen = (values.get("source_campaign") or {}).get(CAMPAIGN_SELECT) or {}
    option = chosen.get("selected_option") or {}
    return str(option.get("value") or "")
