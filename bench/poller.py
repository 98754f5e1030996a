"""Bench: N activities over M sandbox accounts followed by one or two pollers, real clock.

The fake Slack, the sandbox (with the side that starts activities) and each poller run in
processes of their own, as Slack, Constant Contact and `cctag poll` do in production.

    python -m bench.poller [--modes single,workspaces] [--activities 200] [--accounts 10]

Two modes, run one after the other in one invocation and printed side by side:
- `single`: each workspace's account reached with a configured token (the CC_ACCESS_TOKEN
  way), one long-lived client each;
- `workspaces`: each workspace connected through the sandbox's OAuth2 server (a real
  connection in the store, tokens encrypted) and reached through `ConnectedAccounts`, which
  makes a new client every time it is asked, as in multi-workspace mode.

Measures Constant Contact status calls per activity (GET /v3/activities and /activities/{id}),
the lag from an activity's end (its start + the sandbox's activity_seconds) to its end being
posted in Slack, and 429s answered by the sandbox (4 requests/second per API key, as the real
API). One line per mode: `poller: mode=… activities=… accounts=… status_calls_per_activity=…
lag_p95_s=… http_429=…`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography.fernet import Fernet
from slack_sdk import WebClient

from bot.cc.client import AccountClient, CCApi
from bot.cc.models import ActivityKind
from bot.cc.oauth import OAuthClient
from bot.cc.ports import RateLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import SYSTEM_CLOCK
from bot.connect import ConnectedAccounts, ConnectFlow
from bot.connect.flow import ConnectOutcome
from bot.crypto import TokenCipher
from bot.devkit.fakeslack.server import FakeSlackServer, SlackMessage
from bot.devkit.sandbox.faults import Faults
from bot.devkit.sandbox.server import create_app
from bot.devkit.sandbox.state import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SandboxState
from bot.devkit.threaded_server import ThreadedServer
from bot.poller import Poller
from bot.ports import Accounts as AccountsPort
from bot.store import NewActivity, Store
from bot.store.connections import ConnectionRepository
from bot.store.ratelimit import DatabaseRateLimiter

API_KEY = "bench-api-key"
TERMINAL = {"completed", "failed", "cancelled", "timed_out"}
MODES = ("single", "workspaces")
REQUESTER = "UBENCH"
# Where the connect flow would send the browser back; the bench reads the redirect instead.
PUBLIC_URL = "http://127.0.0.1:9"


def account_client(
    base_url: str, token: str, limiter: RateLimiter, account_key: str
) -> AccountClient:
    return CCApi(base_url, limiter).for_account(StaticTokens(token), account_key)


@dataclass(frozen=True)
class SandboxUrls:
    root: str

    @property
    def api(self) -> str:
        return f"{self.root}/v3"

    @property
    def auth(self) -> str:
        return f"{self.root}/oauth2/default/v1"


class Count429:
    """ASGI wrapper counting the sandbox's 429 answers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counting_send(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start" and message.get("status") == 429:
                self.count += 1
                print(f"429 on {scope.get('method')} {scope.get('path')}", file=sys.stderr)
            await send(message)

        await self.app(scope, receive, counting_send)


class Accounts:
    def __init__(self, clients: dict[str, AccountClient]) -> None:
        self._clients = clients

    def client_for(self, workspace_id: str) -> AccountClient | None:
        return self._clients.get(workspace_id)


class Slack:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def client_for(self, workspace_id: str) -> WebClient:
        return self._client


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def run(args: argparse.Namespace) -> list[str]:
    """Each mode on a fresh database; answers one line per mode."""
    lines = []
    for mode in args.modes:
        with fresh_database(args.database_url) as database_url:
            lines.append(_run(args, mode, database_url))
    return lines


@contextmanager
def fresh_database(database_url: str | None) -> Iterator[str]:
    """An empty database for each run: a new SQLite file, or a new PostgreSQL schema.

    The sandbox's activity ids are seeded, so a run on rows left by an earlier one would find
    its activities tracked (and finished) already.
    """
    if not database_url or not database_url.startswith("postgres"):
        yield database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        return
    import psycopg

    plain = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", database_url)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    joiner = "&" if "?" in database_url else "?"
    try:
        yield f"{database_url}{joiner}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'drop schema "{schema}" cascade')


@dataclass(frozen=True)
class Outcome:
    ends: dict[str, float]  # activity id -> when it ended (monotonic clock, system-wide)
    status_calls: int
    http_429: int


def _run(args: argparse.Namespace, mode: str, database_url: str) -> str:
    """Fake Slack here; the sandbox with the web side starting activities in one process; each
    poller in its own, as `cctag poll` runs apart from them. Sharing an interpreter lock, one
    would measure the others: a busy event loop delays requests and bunches them into 429s."""
    store = Store(database_url)
    store.upgrade()
    store.close()
    notified: dict[str, float] = {}

    def on_slack(event: str, payload: SlackMessage | dict[str, Any]) -> None:
        if event == "posted" and isinstance(payload, SlackMessage) and payload.metadata:
            body = payload.metadata.get("event_payload") or {}
            if body.get("state") in TERMINAL:
                notified.setdefault(str(body["activity_id"]), time.monotonic())

    cipher_key = Fernet.generate_key().decode()
    spawn = multiprocessing.get_context("spawn")
    reports = spawn.Queue()
    # The pollers stop before the sandbox does: a poller whose API is gone retries and backs
    # off for minutes, and an unjoined child keeps the bench from exiting.
    go, stop_pollers, stop = spawn.Event(), spawn.Event(), spawn.Event()
    with FakeSlackServer() as slack_server:
        slack_server.fake.listeners.append(on_slack)
        # One bot token stands for all 10 workspaces here, so the fake would count their edits as
        # one workspace's; the poller's own Slack pace still applies (tests/poller/test_pace.py).
        slack_server.fake.relax("rate_limits")
        slack_url = slack_server.api_url
        services = spawn.Process(
            target=run_services, args=(args, mode, database_url, slack_url, reports, go, stop)
        )
        services.start()
        pollers: list[SpawnProcess] = []
        try:
            sandbox = SandboxUrls(reports.get(timeout=60))
            if mode == "workspaces":
                connect_workspaces(args, database_url, sandbox, cipher_key)
            for p in range(args.pollers):
                owner = f"bench-{p}"
                pollers.append(
                    spawn.Process(
                        target=run_poller,
                        args=(args, mode, database_url, sandbox, slack_url, owner, cipher_key),
                        kwargs={"stop": stop_pollers},
                    )
                )
                pollers[-1].start()
            go.set()
            outcome: Outcome = reports.get(timeout=args.timeout + 60)
        finally:  # a failed run too: an unjoined child would keep the bench from exiting
            _stop(pollers, stop_pollers)
            _stop([services], stop)
    return report(args, mode, outcome, notified)


def _stop(processes: list[SpawnProcess], stop: Event) -> None:
    stop.set()
    for process in processes:
        process.join(30)
        if process.is_alive():
            process.terminate()


def report(
    args: argparse.Namespace, mode: str, outcome: Outcome, notified: dict[str, float]
) -> str:
    ends = outcome.ends
    lags = [notified[a] - end for a, end in ends.items() if a in notified]
    missing = len(ends) - len(lags)
    if missing:
        print(f"{mode}: {missing} activities had no end posted within {args.timeout} s")
    if lags:
        print(
            f"{mode} lag: min {min(lags):.2f} s, median {percentile(lags, 0.5):.2f} s, "
            f"max {max(lags):.2f} s"
        )
    return (
        f"poller: mode={mode} activities={len(ends)} accounts={args.accounts} "
        f"status_calls_per_activity={outcome.status_calls / max(len(ends), 1):.2f} "
        f"lag_p95_s={percentile(lags, 0.95):.2f} http_429={outcome.http_429} "
        f"unposted={missing}"
    )


def run_services(
    args: argparse.Namespace,
    mode: str,
    database_url: str,
    slack_url: str,
    reports: Queue,
    go: Event,
    stop: Event,
) -> None:
    """The sandbox; once the pollers run, start the activities and wait until all are ended."""
    state = SandboxState(activity_seconds=args.activity_seconds, rate_per_second=4.0)
    counter = Count429(create_app(state, Faults(state)))
    store = Store(database_url)
    with ThreadedServer(counter) as sandbox_server:
        for n in range(args.accounts):
            state.add_account(f"bench-{n}", contacts=20)
            if mode == "single":
                state.add_access_token(f"bench-token-{n}", f"bench-{n}", expires_in=None)
        reports.put(sandbox_server.url)
        go.wait()
        web = WebClient(token="xoxb-bench", base_url=slack_url)
        ends = start_activities(args, state, store, web)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline and store.in_flight_count():
            time.sleep(0.2)  # an activity leaves the flight once its end is posted
        status_calls = state.request_count("/v3/activities", "GET")
        reports.put(Outcome(ends, status_calls, counter.count))
        stop.wait()
    store.close()


def connect_workspaces(
    args: argparse.Namespace, database_url: str, sandbox: SandboxUrls, cipher_key: str
) -> None:
    """Connect workspace T{n} to sandbox account bench-{n} through the OAuth2 flow (PKCE): the
    link, the sandbox's authorization (its redirect read, not followed), the code exchanged."""
    store = Store(database_url)
    connections = ConnectionRepository(store.engine, SYSTEM_CLOCK)
    oauth = OAuthClient(sandbox.auth, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    api = CCApi(sandbox.api, DatabaseRateLimiter(store, API_KEY, rate_per_second=args.rate))
    cipher = TokenCipher(cipher_key)
    flow = ConnectFlow(connections, oauth, api, cipher, SYSTEM_CLOCK, PUBLIC_URL, auditor=store)
    try:
        for n in range(args.accounts):
            link = flow.start_connect(f"T{n}", REQUESTER) + f"&account=bench-{n}"
            redirect = httpx.get(link, follow_redirects=False).headers["location"]
            query = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
            result = flow.finish_connect(query.get("code"), query.get("state"), query.get("error"))
            if result.outcome is not ConnectOutcome.CONNECTED:
                raise SystemExit(f"connecting T{n} failed: {result.outcome} {result.reason}")
    finally:
        api.close()
        store.close()


def accounts_for(
    args: argparse.Namespace, mode: str, store: Store, sandbox: SandboxUrls, cipher_key: str
) -> AccountsPort:
    limiter = DatabaseRateLimiter(store, API_KEY, rate_per_second=args.rate)
    if mode == "single":
        return Accounts(
            {
                f"T{n}": account_client(sandbox.api, f"bench-token-{n}", limiter, f"T{n}")
                for n in range(args.accounts)
            }
        )
    oauth = OAuthClient(sandbox.auth, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    connections = ConnectionRepository(store.engine, SYSTEM_CLOCK)
    api = CCApi(sandbox.api, limiter)
    return ConnectedAccounts(api, connections, oauth, TokenCipher(cipher_key), SYSTEM_CLOCK)


def run_poller(
    args: argparse.Namespace,
    mode: str,
    database_url: str,
    sandbox: SandboxUrls,
    slack_url: str,
    owner: str,
    cipher_key: str,
    stop: Event,
) -> None:
    store = Store(database_url)
    poller = Poller(
        store,
        accounts_for(args, mode, store, sandbox, cipher_key),
        Slack(WebClient(token="xoxb-bench", base_url=slack_url)),
        SYSTEM_CLOCK,
        owner=owner,
        base_interval=args.interval,
        max_interval=30.0,
        max_age=timedelta(hours=1),
    )
    stopping = threading.Event()  # run_forever waits on a thread event; mirror the process one
    threading.Thread(target=lambda: stopping.set() if stop.wait() else None, daemon=True).start()
    poller.run_forever(stopping)
    store.close()


def start_activities(
    args: argparse.Namespace, state: SandboxState, store: Store, web: WebClient
) -> dict[str, float]:
    """Start the activities spread over `spread` seconds; answers activity id → its end."""
    rng = random.Random(7)
    plan = sorted(rng.uniform(0, args.spread) for _ in range(args.activities))
    began, ends = time.monotonic(), {}
    for n, offset in enumerate(plan):
        time.sleep(max(0.0, began + offset - time.monotonic()))
        workspace = f"T{n % args.accounts}"
        channel = f"C{n}"  # a channel each: 20 ends in one channel in 10 s outpace Slack's 1 a s
        account = state.account(f"bench-{n % args.accounts}")
        contacts = list(account.contacts)[:10]
        record = state.start_activity(
            account, ActivityKind.ADD_TAGS, contact_ids=contacts, tag_ids=[next(iter(account.tags))]
        )
        parent = web.chat_postMessage(channel=channel, text=f"Activity {n}")
        store.track_activity(
            NewActivity(
                workspace_id=workspace,
                channel_id=channel,
                parent_ts=str(parent["ts"]),
                requester_id=REQUESTER,
                kind=ActivityKind.ADD_TAGS,
                summary=f"Bench activity {n}",
                activity_id=record.activity_id,
            )
        )
        ends[record.activity_id] = record.started + record.duration
    return ends


def modes(value: str) -> list[str]:
    chosen = [mode.strip() for mode in value.split(",") if mode.strip()]
    unknown = [mode for mode in chosen if mode not in MODES]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"modes are a comma-separated choice of {', '.join(MODES)}"
        )
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modes", type=modes, default=list(MODES), help="single,workspaces")
    parser.add_argument("--activities", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--pollers", type=int, default=1)
    parser.add_argument("--interval", type=float, default=3.0, help="poll interval (s)")
    parser.add_argument("--rate", type=float, default=4.0, help="requests/s of the API key")
    parser.add_argument("--activity-seconds", type=float, default=8.0)
    parser.add_argument("--spread", type=float, default=10.0, help="seconds to start them over")
    parser.add_argument("--timeout", type=float, default=90.0)
    parser.add_argument("--database-url", default=None)
    for line in run(parser.parse_args()):
        print(line)


if __name__ == "__main__":
    main()
