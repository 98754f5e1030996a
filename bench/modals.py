"""Bench: how soon a one-line command's modal opens, and how fast type-ahead answers.

    python -m bench.modals [--concurrent 16] [--rounds 5] [--tags 500] [--typeahead 200]

The real web app (bot/web.py) on real HTTP, the strict fake Slack (trigger ids valid once and
for 3 s) and the sandbox, as `bench/ack.py` runs them. Each round sends `--concurrent` signed
commands at once that open a modal (`/cctag add`, `remove`, `lists`, `unlists` with no
arguments) and times each from its request to the fake's `views.open`; a views.open Slack would
refuse (`expired_trigger_id`) counts as missed. Then options requests of the add form's tag
menu over `--tags` tags, warm (after a first one fills the cache), timed request to answer.
Its last line: `modals: open_p99_ms=… open_max_ms=… missed=… typeahead_p99_ms=…`.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

import httpx
from slack_sdk import WebClient

from bot.cc.client import AccountClient, CCApi
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import SYSTEM_CLOCK
from bot.devkit.fakeslack.server import FakeSlackServer, SlackMessage
from bot.devkit.local_slack import LocalSlack
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.threaded_server import ThreadedServer
from bot.ports import SingleAccount
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.views import TAG_SELECT
from bot.store import Store
from bot.web import create_web_app

SECRET = "bench-secret"
COMMANDS = ("add", "remove", "lists", "unlists")
WAIT_SECONDS = 30.0  # how long a round waits for its modals before counting them missed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class Openings:
    """views.open calls the fake Slack took, by trigger id, timed as they arrive."""

    def __init__(self, slack: FakeSlackServer) -> None:
        self._slack = slack
        self._done = threading.Condition()
        self.opened: dict[str, float] = {}
        slack.fake.listeners.append(self._seen)

    def _seen(self, event: str, payload: SlackMessage | dict[str, Any]) -> None:
        call = self._slack.fake.calls[-1]  # the listener runs inside that call, under its lock
        if event == "view" and call.method == "views.open":
            with self._done:
                self.opened[str(call.args.get("trigger_id"))] = time.perf_counter()
                self._done.notify_all()

    def wait_for(self, triggers: set[str], seconds: float) -> None:
        with self._done:
            self._done.wait_for(lambda: triggers <= self.opened.keys(), timeout=seconds)


def _round(local: LocalSlack, openings: Openings, concurrent: int) -> tuple[list[float], int]:
    bodies = [
        local.command_body(COMMANDS[n % len(COMMANDS)], user="UBENCH", channel="CBENCH")
        for n in range(concurrent)
    ]
    sent: dict[str, float] = {}
    barrier = threading.Barrier(concurrent)

    def send(body: str) -> None:
        trigger = parse_qs(body)["trigger_id"][0]
        barrier.wait(10)
        sent[trigger] = time.perf_counter()
        answer = local.post(body)
        if answer.status_code != 200:
            raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")

    with ThreadPoolExecutor(max_workers=concurrent) as pool:
        for future in [pool.submit(send, body) for body in bodies]:
            future.result()
    openings.wait_for(set(sent), WAIT_SECONDS)
    took = [(openings.opened[t] - at) * 1000 for t, at in sent.items() if t in openings.opened]
    return took, len(sent) - len(took)


def _typeahead(local: LocalSlack, requests: int) -> list[float]:
    local.options(TAG_SELECT, "")  # fills the cache: warm from here on
    took: list[float] = []
    for number in range(requests):
        started = time.perf_counter()
        answer = local.options(TAG_SELECT, f"bench {number % 50:02d}")
        took.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200 or "options" not in answer.json():
            raise RuntimeError(f"options answer {answer.status_code}: {answer.text[:200]}")
    return took


def _with_tags(account: AccountClient, count: int) -> None:
    """Tags up to `count` in all (the demo account has a few already; 500 is the most)."""
    for number in range(len(account.list_tags()), count):
        account.create_tag(f"bench {number % 50:02d} tag {number:03d}")


def run(concurrent: int, rounds: int, tags: int, typeahead: int) -> dict[str, float]:
    work = ThreadPoolExecutor(max_workers=16, thread_name_prefix="bench-work")
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(activity_seconds=1.0, rate_per_second=10_000.0, contacts=50) as sandbox,
        FakeSlackServer() as slack,
    ):
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.upgrade()
        api = CCApi(sandbox.base_url, SpacingLimiter(rate_per_second=5_000.0))
        account = api.for_account(StaticTokens(sandbox.access_token))
        _with_tags(account, tags)
        client = WebClient(token="xoxb-bench", base_url=slack.api_url)
        settings = Settings(slack_signing_secret=SECRET, database_url=store.database_url)
        app = create_app(
            settings, store, SingleAccount(account), client, SYSTEM_CLOCK, background=work
        )
        openings = Openings(slack)
        with ThreadedServer(create_web_app(app, store)) as web:
            local = LocalSlack(
                f"{web.url}/slack/events", SECRET, slack.response_url, http=httpx.Client(timeout=30)
            )
            _round(local, openings, 4)  # warm up: auth.test, connections
            opened: list[float] = []
            missed = 0
            for _ in range(rounds):
                took, lost = _round(local, openings, concurrent)
                opened += took
                missed += lost
            expired = sum(
                1 for c in slack.fake.calls_to("views.open") if c.args.get("trigger_id")
            ) - len(openings.opened)
            answers = _typeahead(local, typeahead)
        work.shutdown(wait=False, cancel_futures=True)
        api.close()
        store.close()
    return {
        "open_p50_ms": statistics.median(opened) if opened else float("nan"),
        "open_p99_ms": percentile(opened, 0.99) if opened else float("nan"),
        "open_max_ms": max(opened) if opened else float("nan"),
        "missed": float(missed),
        "refused_opens": float(expired),
        "typeahead_p50_ms": statistics.median(answers),
        "typeahead_p99_ms": percentile(answers, 0.99),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--concurrent", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tags", type=int, default=500)
    parser.add_argument("--typeahead", type=int, default=200)
    args = parser.parse_args()
    logging.getLogger().addHandler(logging.NullHandler())
    logging.getLogger("slack_bolt").setLevel(logging.CRITICAL)
    logging.getLogger("bot").setLevel(logging.CRITICAL)
    figures = run(args.concurrent, args.rounds, args.tags, args.typeahead)
    counts = ("missed", "refused_opens")
    shown = [f"{k}={v:.0f}" if k in counts else f"{k}={v:.1f}" for k, v in figures.items()]
    print("modals: " + " ".join(shown), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
