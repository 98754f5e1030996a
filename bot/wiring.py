"""Settings in, running parts out: the one place that knows how the pieces fit together."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import uvicorn
from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from bot.access_log import uvicorn_log_config
from bot.cc.budget import read_budget
from bot.cc.client import CCApi
from bot.cc.oauth import OAuthClient
from bot.cc.ports import TokenSource
from bot.cc.tokens import RefreshingTokens, StaticTokens
from bot.clock import SYSTEM_CLOCK, Clock
from bot.connect import (
    ConnectedAccounts,
    ConnectFlow,
    InstalledSlackClients,
    connect_routes,
    oauth_settings,
    slack_install_routes,
)
from bot.connect.flow import ConnectionInfo
from bot.crypto import cipher_from
from bot.home import RuleShown
from bot.ops import logs, metrics, stopping
from bot.ops.readiness import readyz_route
from bot.permissions import Permissions, Policy
from bot.poller import Poller
from bot.ports import Accounts, SingleAccount, SingleSlack, SlackClients
from bot.settings import Settings, SettingsError, ensure_port_free, refuse_in_memory, require
from bot.slack.app import WORKERS, connect_socket_mode, create_app
from bot.slack.approvals import SlackApprovalPosts
from bot.slack.conversation import ChannelPosts
from bot.slack.workspaces import HomeData
from bot.store import Store
from bot.store.connections import ConnectionRepository
from bot.store.engine import make_engine, unusable
from bot.store.ratelimit import DatabaseRateLimiter
from bot.store.rules import RuleStore
from bot.usecases import Catalog, Operations
from bot.usecases.approvals import ApprovalRules, Approvals
from bot.usecases.commands import REGISTRY
from bot.usecases.requests import Pipeline
from bot.usecases.rules.book import rule_words
from bot.usecases.rules.runner import RuleRunner
from bot.web import create_web_app
from bot.worker import Cycle, run_cycles

log = logging.getLogger(__name__)


@dataclass
class Parts:
    """Everything `serve`, `poll` and the tests need, built once from the settings."""

    settings: Settings
    store: Store
    api: CCApi
    accounts: Accounts
    slack: SlackClients
    slack_client: WebClient
    clock: Clock
    connect: ConnectFlow | None = None
    permissions: Permissions | None = None
    slack_oauth: OAuthSettings | None = None
    approvals: Approvals | None = None


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
        reserve=settings.cctag_interactive_reserve,
    )
    http = metrics.cc_http_client(settings.cc_api_base())
    return CCApi(settings.cc_api_base(), limiter, http=http, clock=clock)


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
            metrics.SlackErrorCounter(),  # first: it sees every answer, and never retries
            RateLimitErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def multi_workspace(settings: Settings) -> bool:
    """Slack installs over OAuth (SLACK_CLIENT_ID/SECRET) instead of one SLACK_BOT_TOKEN."""
    return bool(settings.slack_client_id and settings.slack_client_secret)


def build_parts(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Parts:
    store = build_store(settings, clock)
    api = build_api(settings, store, clock)
    slack_client = build_slack_client(settings)
    parts = Parts(
        settings, store, api, SingleAccount(None), SingleSlack(slack_client), slack_client, clock
    )
    if multi_workspace(settings):
        cipher = cipher_from(settings.cctag_encryption_key)
        parts.slack_oauth = oauth_settings(settings, store.engine, cipher, clock)
        parts.slack = InstalledSlackClients(
            parts.slack_oauth.installation_store, settings.slack_api_base()
        )
    tokens = single_account_tokens(settings, store, clock)
    if tokens is not None:
        parts.accounts = SingleAccount(api.for_account(tokens))
    elif settings.cc_client_id:
        # Each workspace connects its own Constant Contact account with /cctag connect.
        cipher = cipher_from(settings.cctag_encryption_key)
        connections = ConnectionRepository(store.engine, clock)
        oauth = OAuthClient(
            settings.cc_auth_base(), settings.cc_client_id, settings.cc_client_secret, clock=clock
        )
        parts.accounts = ConnectedAccounts(api, connections, oauth, cipher, clock)
        parts.connect = ConnectFlow(
            connections, oauth, api, cipher, clock, settings.public_url(), auditor=store
        )
    policies = ConnectionRepository(store.engine, clock)
    parts.permissions = Permissions(
        policies, parts.slack, Policy.from_settings(settings), store, clock
    )
    parts.approvals = build_approvals(parts)
    return parts


def build_approvals(parts: Parts) -> Approvals | None:
    """What the permissions would refuse becomes a request for an approver."""
    if parts.permissions is None:
        return None
    settings = parts.settings
    rules = ApprovalRules(
        channel=settings.cctag_approvers_channel or None,
        over=settings.cctag_approval_over,
        hours=settings.cctag_approval_hours,
    )
    posts = SlackApprovalPosts(parts.slack)
    return Approvals(parts.store, posts, parts.permissions, rules, parts.clock)


def worker_owner() -> str:
    """Names this process's leases (activities, rules): host, pid and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def build_poller(parts: Parts, owner: str | None = None) -> Poller:
    return Poller(
        parts.store,
        parts.accounts,
        parts.slack,
        parts.clock,
        owner=owner or worker_owner(),
        base_interval=parts.settings.cctag_poll_interval,
        lease_seconds=parts.settings.cctag_poll_lease_seconds,
        max_age=timedelta(hours=parts.settings.cctag_activity_max_age_hours),
        reads_per_minute=parts.settings.cctag_slack_reads_per_minute,
        sweeps=[parts.approvals.expire_due] if parts.approvals is not None else [],
    )


def build_pipeline(parts: Parts) -> Pipeline:
    """The one request pipeline, for the worker's rule runs (the Slack app builds its own)."""
    operations = Operations(parts.store, Catalog(clock=parts.clock), clock=parts.clock)
    return Pipeline(
        operations,
        parts.accounts,
        REGISTRY,
        permits=parts.permissions,
        connections=parts.connect,
    )


def build_rule_runner(parts: Parts, owner: str | None = None) -> RuleRunner:
    return RuleRunner(
        build_pipeline(parts),
        lambda workspace_id: ChannelPosts(parts.slack.client_for(workspace_id)),
        parts.clock,
        owner=owner or worker_owner(),
    )


def run_worker(parts: Parts, stop: threading.Event) -> None:
    """Activities followed and rules run, until `stop` is set."""
    owner = worker_owner()
    poller, rules = build_poller(parts, owner), build_rule_runner(parts, owner)
    interval = parts.settings.cctag_poll_interval
    cycles: list[Cycle] = [partial(poller.run_once, stop), rules.run_due]
    run_cycles(stop, cycles, fallback=interval, longest=interval)


def poll(settings: Settings, stop: threading.Event, metrics_port: int | None = None) -> int:
    check_start(settings)
    log.info(describe_mode(settings, "poll"))
    parts = build_parts(settings)
    log.info("poller started")
    if metrics_port is None:
        run_worker(parts, stop)
    else:
        served = metrics.MetricsServer(
            metrics_port, state_collector(parts), settings.cctag_metrics_token
        )
        with served:
            log.info("metrics at http://0.0.0.0:%d/metrics", served.port)
            run_worker(parts, stop)
    log.info("poller stopped")
    return 0


def state_collector(parts: Parts) -> metrics.StateCollector:
    key, quota = api_key_name(parts.settings), parts.settings.cctag_daily_quota
    return metrics.StateCollector(
        parts.store, parts.clock, lambda: metrics.budget_left(parts.store, key, quota)
    )


def build_home(parts: Parts) -> HomeData:
    settings = parts.settings
    started = parts.clock.now()

    def connection_info(workspace_id: str) -> ConnectionInfo | None:
        if parts.connect is not None:
            return parts.connect.connection_info(workspace_id)
        if parts.accounts.client_for(workspace_id) is not None:
            # The CC_ACCESS_TOKEN account, set by whoever runs cctag.
            return ConnectionInfo(None, "CC_ACCESS_TOKEN", started)
        return None

    return HomeData(
        connection_info=connection_info,
        calls_today=lambda: parts.store.calls_today(api_key_name(settings)),
        daily_quota=settings.cctag_daily_quota,
        recent_activities=lambda workspace_id: parts.store.recent_activities(workspace_id),
        budget=lambda workspace_id: read_budget(parts.api.limiter, workspace_id),
        approvals=parts.approvals.waiting if parts.approvals is not None else None,
        rules=lambda workspace_id: rules_shown(parts.store, workspace_id),
    )


def rules_shown(store: Store, workspace_id: str) -> list[RuleShown]:
    """The workspace's rules as the Home lists them (the words of `/cctag rules`)."""
    found = RuleStore(store).of_workspace(workspace_id)
    return [RuleShown(rule.id, rule_words(rule), rule.paused) for rule in found]


def build_bolt_app(parts: Parts, background: Executor | None = None) -> App:
    app = create_app(
        parts.settings,
        parts.store,
        parts.accounts,
        parts.slack_client,
        parts.clock,
        oauth_settings=parts.slack_oauth,
        permissions=parts.permissions,
        connect=parts.connect,
        home=build_home(parts),
        background=background,
        approvals=parts.approvals,
    )
    app.middleware(metrics.stamp_arrival)
    return app


def build_web_app(parts: Parts, bolt_app: App, *, slack_events: bool = True) -> Starlette:
    routes: list[BaseRoute] = [
        readyz_route(parts.store),
        metrics.metrics_route(state_collector(parts), parts.settings.cctag_metrics_token),
    ]
    if parts.slack_oauth is not None:
        routes += slack_install_routes(bolt_app)
    if parts.connect is not None:
        routes += connect_routes(parts.connect)
    return create_web_app(
        bolt_app,
        parts.store,
        extra_routes=routes,
        slack_events=slack_events,
        signing_secret=parts.settings.slack_signing_secret,
    )


# ---------------------------------------------------------------- start-up in one line


def check_start(settings: Settings) -> None:
    """What would make `serve` or `poll` useless or unsafe, refused before anything starts,
    in one line naming the setting (SettingsError)."""
    if not settings.cc_access_token and not settings.cc_client_id:
        raise SettingsError(
            "CC_ACCESS_TOKEN or CC_CLIENT_ID: neither is set, so no Constant Contact account "
            "can be reached; set CC_ACCESS_TOKEN (one account) or CC_CLIENT_ID and "
            "CC_CLIENT_SECRET (each workspace connects its own)"
        )
    refuse_in_memory(settings.database_url)
    if settings.cctag_encryption_key:
        cipher_from(settings.cctag_encryption_key)  # a short key fails here, naming itself
    _database_answers(settings.database_url)


def _database_answers(database_url: str) -> None:
    """Before the first line: a database that cannot be reached is the only line."""
    engine = make_engine(database_url)
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        raise unusable(database_url, exc) from None
    finally:
        engine.dispose()


def describe_mode(settings: Settings, command: str) -> str:
    """The first line of a start: what runs, how Slack and Constant Contact are reached."""
    parts = [f"cctag {command}"]
    if command == "serve":
        parts.append(
            "Socket Mode (SLACK_APP_TOKEN)"
            if settings.slack_app_token
            else f"HTTP on port {settings.port} (POST /slack/events)"
        )
        parts.append(
            "Slack installs over OAuth (SLACK_CLIENT_ID)"
            if multi_workspace(settings)
            else "one Slack workspace (SLACK_BOT_TOKEN)"
        )
    parts.append(
        "one Constant Contact account (CC_ACCESS_TOKEN)"
        if settings.cc_access_token
        else "Constant Contact accounts connected per workspace (CC_CLIENT_ID)"
    )
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    parts.append(f"database {database}")
    return "; ".join(parts)


@dataclass
class Serving:
    """The web app of `cctag serve`, its work pool, and what closes when it stops."""

    web: Starlette
    pool: stopping.DrainingPool
    close: Callable[[], None]


def build_serving(settings: Settings) -> Serving:
    parts = build_parts(settings)
    pool = stopping.DrainingPool(WORKERS, thread_name_prefix="cctag-work")
    bolt_app = build_bolt_app(parts, background=pool)
    stop = threading.Event()
    if settings.cctag_poll_in_serve:
        threading.Thread(target=run_worker, args=(parts, stop), daemon=True).start()
    # Socket Mode takes Slack's requests over the socket; the web routes (/healthz, the
    # OAuth callbacks, /slack/install) are still served over HTTP.
    socket = (
        connect_socket_mode(bolt_app, settings.slack_app_token)
        if settings.slack_app_token
        else None
    )

    def close() -> None:
        stop.set()
        if socket is not None:
            socket.close()

    return Serving(build_web_app(parts, bolt_app, slack_events=socket is None), pool, close)


def serve(settings: Settings, workers: int = 1) -> int:
    if not settings.slack_app_token:
        require(settings, "SLACK_SIGNING_SECRET")
    if not multi_workspace(settings):
        require(settings, "SLACK_BOT_TOKEN")
    check_start(settings)
    ensure_port_free(settings.port, "--port or PORT")
    log.info(describe_mode(settings, "serve"))
    options: dict[str, Any] = {
        "host": "0.0.0.0",
        "port": settings.port,
        "log_level": "info",
        "log_config": logs.uvicorn_config(uvicorn_log_config(), settings.cctag_log_format),
    }
    if workers > 1:
        return workers_serve(settings, workers, options)
    serving = build_serving(settings)
    grace = max(int(settings.cctag_stop_seconds), 1)
    config = uvicorn.Config(serving.web, timeout_graceful_shutdown=grace, **options)
    server = stopping.StoppingServer(config, settings.cctag_stop_seconds)
    try:
        return stopping.serve_until_stopped(server, serving.pool, then_close=serving.close)
    finally:
        serving.close()


def workers_serve(settings: Settings, workers: int, options: dict[str, Any]) -> int:
    """uvicorn's supervisor and `workers` processes behind one port, each building its own
    parts (bot/ops/workers.py); their metrics add up through PROMETHEUS_MULTIPROC_DIR."""
    metrics.share_between_processes()
    grace = stopping.ack_grace(settings.cctag_stop_seconds)
    uvicorn.run(
        "bot.ops.workers:web_app",
        factory=True,
        workers=workers,
        timeout_graceful_shutdown=max(int(grace), 1),
        **options,
    )
    return 0
