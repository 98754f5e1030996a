"""Bench: how fast /cctag answers Slack, against a bolt app that only acks.

    python -m bench.ack [--clients 20] [--requests 10] [--rounds 3]

Both apps run side by side behind the same web app (bot/web.py) on real HTTP. `--clients`
threads each send signed `/cctag add VIP --lists Newsletter` commands and view submissions of
the add-tags form; ours does the real work after its ack (sandbox Constant Contact, FakeSlack,
SQLite), the baseline acks and does nothing. Rounds alternate between the two apps so drift hits
both. Its last line: `ack: p50_ms=… p99_ms=… baseline_p99_ms=… ratio=…` (ratio = p99 / baseline).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.cc.client import CCApi
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import SYSTEM_CLOCK
from bot.devkit.fakeslack.server import FakeSlackServer
from bot.devkit.local_slack import LocalSlack
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.threaded_server import ThreadedServer
from bot.ports import SingleAccount
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.views import TAGGING_FORM, tagging_form
from bot.store import Store
from bot.web import create_web_app

SECRET = "bench-secret"
COMMAND = "add VIP --lists Newsletter"


@dataclass
class Samples:
    command: list[float] = field(default_factory=list)
    view: list[float] = field(default_factory=list)

    def all(self) -> list[float]:
        return self.command + self.view


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def baseline_app(client: WebClient) -> App:
    app = App(signing_secret=SECRET, client=client, token_verification_enabled=False)

    def only_ack(ack: Ack) -> None:
        ack()

    app.command("/cctag")(only_ack)
    app.view(TAGGING_FORM)(only_ack)
    return app


def _view_values(tag_id: str, list_id: str) -> dict[str, Any]:
    return {"targets": [(tag_id, "VIP")], "source_lists": [(list_id, "Newsletter")]}


def _client_loop(
    local: LocalSlack,
    requests: int,
    kind: str,
    values: dict[str, Any],
    out: list[float],
    lock: threading.Lock,
) -> None:
    http = httpx.Client(timeout=30)
    sender = LocalSlack(local.url, local.secret, local.response_url, http=http)
    for _ in range(requests):
        if kind == "command":
            body = sender.command_body(COMMAND, user="UBENCH", channel="CBENCH")
        else:
            view = {**tagging_form("add", "CBENCH"), "id": f"V{uuid.uuid4().hex[:10]}"}
            body = sender.interaction_body(sender.view_submission_payload(view, values))
        started = time.perf_counter()
        answer = sender.post(body)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")
        with lock:
            out.append(elapsed)
    http.close()


def _burst(
    local: LocalSlack,
    clients: int,
    requests: int,
    kind: str,
    values: dict[str, Any],
    out: list[float],
) -> None:
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        futures = [
            pool.submit(_client_loop, local, requests, kind, values, out, lock)
            for _ in range(clients)
        ]
        for future in futures:
            future.result()


def _line(name: str, samples: list[float], base: list[float]) -> str:
    return (
        f"{name}: p50_ms={statistics.median(samples):.1f} p99_ms={percentile(samples, 0.99):.1f} "
        f"baseline_p50_ms={statistics.median(base):.1f} "
        f"baseline_p99_ms={percentile(base, 0.99):.1f}"
    )


def run(clients: int, requests: int, rounds: int, print_line: Callable[[str], None]) -> float:
    ours, base = Samples(), Samples()
    work = ThreadPoolExecutor(max_workers=16, thread_name_prefix="bench-work")
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(activity_seconds=1.0, rate_per_second=10_000.0, contacts=50) as sandbox,
    ):
        slack = FakeSlackServer()
        with slack:
            store = Store(f"sqlite:///{tmp}/bench.db")
            store.upgrade()
            api = CCApi(sandbox.base_url, SpacingLimiter(rate_per_second=5_000.0))
            account = api.for_account(StaticTokens(sandbox.access_token))
            client = WebClient(token="xoxb-bench", base_url=slack.api_url)
            settings = Settings(slack_signing_secret=SECRET, database_url=store.database_url)
            app = create_app(
                settings, store, SingleAccount(account), client, SYSTEM_CLOCK, background=work
            )
            tag, listed = account.find_tag_by_name("VIP"), account.find_list_by_name("Newsletter")
            assert tag is not None and listed is not None
            values = _view_values(tag.tag_id, listed.list_id)
            ours_web = ThreadedServer(create_web_app(app, store))
            base_web = ThreadedServer(create_web_app(baseline_app(client), store))
            with ours_web, base_web:
                ours_local = LocalSlack(f"{ours_web.url}/slack/events", SECRET, slack.response_url)
                base_local = LocalSlack(f"{base_web.url}/slack/events", SECRET, slack.response_url)
                for local in (ours_local, base_local):  # warm up: auth.test, connections
                    _burst(local, 4, 2, "command", values, [])
                for _ in range(rounds):
                    for kind in ("command", "view"):
                        _burst(base_local, clients, requests, kind, values, getattr(base, kind))
                        _burst(ours_local, clients, requests, kind, values, getattr(ours, kind))
            work.shutdown(wait=False, cancel_futures=True)
            api.close()
            store.close()
    print_line(_line("command", ours.command, base.command))
    print_line(_line("view", ours.view, base.view))
    p50, p99 = statistics.median(ours.all()), percentile(ours.all(), 0.99)
    base_p99 = percentile(base.all(), 0.99)
    ratio = p99 / base_p99
    print_line(
        f"ack: p50_ms={p50:.1f} p99_ms={p99:.1f} baseline_p99_ms={base_p99:.1f} ratio={ratio:.2f}"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # Work still running when the servers stop fails loudly; only the figures matter here.
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger("slack_bolt").setLevel(logging.CRITICAL)
    logging.getLogger("bot").setLevel(logging.CRITICAL)
    run(args.clients, args.requests, args.rounds, lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
