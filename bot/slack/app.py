"""The bolt app: `create_app(...)` registers every listener; no globals.

Each listener acks first (bolt's sync App answers Slack as soon as ack() is called and runs the
rest of the listener in its thread pool), then does look-ups, counts and starts activities.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.clock import Clock
from bot.connect.flow import ConnectFlow
from bot.permissions import Permissions
from bot.ports import Accounts
from bot.settings import Settings
from bot.slack.listeners import Deps, register_all
from bot.slack.workspaces import HomeData
from bot.store import Store
from bot.usecases import Catalog, Operations
from bot.usecases.approvals import Approvals
from bot.usecases.commands import REGISTRY
from bot.usecases.requests import Pipeline

__all__ = ["HomeData", "connect_socket_mode", "create_app"]

log = logging.getLogger(__name__)
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
    approvals: Approvals | None = None,
) -> App:
    """The Slack app: token mode with `slack_client`'s token, or OAuth installs when given.

    `permissions` checks who may do what where (None: everyone, everywhere); `connect` serves
    `/cctag connect` and `disconnect` (None: the one CC_ACCESS_TOKEN account); `home` fills the
    App Home (None: the help text); `approvals` turns what `permissions` would refuse into
    requests for an approver (None: refused).
    """
    app = App(
        client=slack_client,
        signing_secret=settings.slack_signing_secret or "",
        token_verification_enabled=False,
        oauth_settings=oauth_settings,
        raise_error_for_unhandled_request=False,
    )
    operations = Operations(
        store, catalog or Catalog(clock=clock), clock=clock, undo_days=settings.cctag_undo_days
    )
    pipeline = Pipeline(
        operations,
        accounts,
        REGISTRY,
        permits=permissions,
        connections=connect,
        approvals=approvals,
    )
    work = background or ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cctag-work")
    register_all(app, Deps(pipeline, work, home))
    app.error(_on_error)
    return app


def _on_error(error: Exception, body: dict[str, Any]) -> None:
    log.error("unhandled error in a listener: %r", error, exc_info=error)


def connect_socket_mode(app: App, app_token: str) -> SocketModeHandler:
    """Socket Mode (SLACK_APP_TOKEN): the same listeners over a WebSocket, connected in the
    background (the caller serves the web routes meanwhile); `close()` ends it."""
    handler = SocketModeHandler(app, app_token)
    handler.connect()
    return handler
