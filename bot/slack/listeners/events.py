"""Events: the App Home, published when its tab opens."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack import views
from bot.slack.listeners import Deps, actor_of


def register(app: App, deps: Deps) -> None:
    def on_home_opened(
        event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        actor = actor_of(context, {**body, "user_id": event.get("user")})
        view = deps.home.view(actor.workspace_id, actor.user_id) if deps.home else views.home_view()
        client.views_publish(user_id=str(event["user"]), view=view)

    app.event("app_home_opened")(on_home_opened)
