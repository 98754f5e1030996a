"""The bolt app: `create_app(...)` registers every listener; no globals.

Each listener acks first (bolt's sync App answers Slack as soon as ack() is called and runs the
rest of the listener in its thread pool), then does look-ups, counts and starts activities.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.clock import Clock
from bot.connect.flow import ConnectFlow
from bot.permissions import Permissions
from bot.ports import Accounts
from bot.settings import Settings
from bot.slack.handlers import Handlers
from bot.slack.views import (
    CANCEL_COMMAND,
    CONFIRM_COMMAND,
    CONFIRM_VIEW,
    CONNECT_LINK,
    CREATE_FORM,
    DELETE_FORM,
    HOME_ACTIONS,
    HOME_CONNECT,
    LIST_SELECT,
    LISTS_FORM,
    TAG_SELECT,
    TAGGING_FORM,
)
from bot.slack.workspaces import HomeData
from bot.store import Store
from bot.usecases import Catalog, Operations

__all__ = ["HomeData", "create_app", "register", "run_socket_mode"]

log = logging.getLogger(__name__)
COMMAND = "/cctag"
# Threads for the work after an ack (look-ups, counts, starting activities).
WORKERS = 16


def create_app(
    settings: Settings,
    store: Store,
    accounts: Accounts,
    slack_client: WebClient,
    clock: Clock,
    *,
    oauth_settings: OAuthSettings | None = None,
    catalog: Catalog | None = None,
    background: Executor | None = None,
    permissions: Permissions | None = None,
    connect: ConnectFlow | None = None,
    home: HomeData | None = None,
) -> App:
    """The Slack app: token mode with `slack_client`'s token, or OAuth installs when given.

    `permissions` checks who may do what where (None: everyone, everywhere); `connect` serves
    `/cctag connect` and `disconnect` (None: the one CC_ACCESS_TOKEN account); `home` fills the
    App Home (None: the help text).
    """
    app = App(
        client=slack_client,
        signing_secret=settings.slack_signing_secret or "",
        token_verification_enabled=False,
        oauth_settings=oauth_settings,
        raise_error_for_unhandled_request=False,
    )
    operations = Operations(store, catalog or Catalog(clock=clock))
    work = background or ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cctag-work")
    handlers = Handlers(
        operations, accounts, work, permissions=permissions, connect=connect, home=home
    )
    register(app, handlers)
    return app


def register(app: App, handlers: Handlers) -> None:
    app.command(COMMAND)(handlers.on_command)
    app.view(TAGGING_FORM)(handlers.on_form)
    app.view(LISTS_FORM)(handlers.on_form)
    app.view(DELETE_FORM)(handlers.on_form)
    app.view(CONFIRM_VIEW)(handlers.on_confirm_view)
    app.view(CREATE_FORM)(handlers.on_create_form)
    app.action(CONFIRM_COMMAND)(handlers.on_confirm_click)
    app.action(CANCEL_COMMAND)(handlers.on_cancel_click)
    app.options(TAG_SELECT)(handlers.on_tag_options)
    app.options(LIST_SELECT)(handlers.on_list_options)
    app.event("app_home_opened")(handlers.on_home_opened)
    for action_id in (*HOME_ACTIONS, HOME_CONNECT):
        app.action(action_id)(handlers.on_home_button)
    app.action(CONNECT_LINK)(handlers.on_link_click)
    app.error(_on_error)


def _on_error(error: Exception, body: dict[str, Any]) -> None:
    log.error("unhandled error in a listener: %r", error, exc_info=error)


def run_socket_mode(app: App, app_token: str) -> None:
    """Socket Mode (SLACK_APP_TOKEN): the same listeners over a WebSocket; blocks until stopped."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()
