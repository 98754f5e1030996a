"""Settings in, running parts out: the one place that knows how the pieces fit together."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.cc.client import CCApi
from bot.cc.oauth import OAuthClient
from bot.cc.ports import TokenSource
from bot.cc.tokens import RefreshingTokens, StaticTokens
from bot.clock import SYSTEM_CLOCK, Clock
from bot.poller import Poller
from bot.ports import Accounts, SingleAccount, SingleSlack, SlackClients
from bot.settings import Settings, SettingsError
from bot.store import Store
from bot.store.ratelimit import DatabaseRateLimiter

log = logging.getLogger(__name__)


@dataclass
class Parts:
    settings: Settings
    store: Store
    api: CCApi
    accounts: Accounts
    slack: SlackClients
    slack_client: WebClient
    clock: Clock


def api_key_name(settings: Settings) -> str:
    """The rate budget belongs to the API key (the OAuth2 application), not to an account."""
    return settings.cc_client_id or "cctag-default-key"


def build_store(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Store:
    store = Store(settings.database_url, clock)
    store.upgrade()
    return store


def build_api(settings: Settings, store: Store, clock: Clock = SYSTEM_CLOCK) -> CCApi:
    limiter = DatabaseRateLimiter(
        store,
        api_key_name(settings),
        rate_per_second=settings.cctag_rate_per_second,
        daily_quota=settings.cctag_daily_quota,
        clock=clock,
    )
    return CCApi(settings.cc_api_base(), limiter, clock=clock)


def single_account_tokens(settings: Settings, store: Store, clock: Clock) -> TokenSource | None:
    """CC_ACCESS_TOKEN (and CC_REFRESH_TOKEN with the client credentials), if set."""
    if not settings.cc_access_token:
        return None
    if not (settings.cc_refresh_token and settings.cc_client_id):
        return StaticTokens(settings.cc_access_token)
    oauth = OAuthClient(
        settings.cc_auth_base(), settings.cc_client_id, settings.cc_client_secret, clock=clock
    )
    return RefreshingTokens(
        oauth,
        settings.cc_access_token,
        settings.cc_refresh_token,
        expires_at=None,
        lock=lambda: store.refresh_lock("cc-env-account"),
        clock=clock,
    )


def build_slack_client(settings: Settings, token: str | None = None) -> WebClient:
    """A Web API client that honours Slack's 429 (Retry-After) and retries dropped connections."""
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_base(),
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_parts(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Parts:
    store = build_store(settings, clock)
    api = build_api(settings, store, clock)
    tokens = single_account_tokens(settings, store, clock)
    accounts = SingleAccount(api.for_account(tokens) if tokens else None)
    slack_client = build_slack_client(settings)
    return Parts(settings, store, api, accounts, SingleSlack(slack_client), slack_client, clock)


def build_poller(parts: Parts) -> Poller:
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    return Poller(
        parts.store,
        parts.accounts,
        parts.slack,
        parts.clock,
        owner=owner,
        base_interval=parts.settings.cctag_poll_interval,
        max_age=timedelta(hours=parts.settings.cctag_activity_max_age_hours),
    )


def poll(settings: Settings, stop: threading.Event) -> int:
    parts = build_parts(settings)
    log.info("poller started")
    build_poller(parts).run_forever(stop)
    log.info("poller stopped")
    return 0


def serve(settings: Settings) -> int:
    raise SettingsError("serve is wired once the Slack app lands")
