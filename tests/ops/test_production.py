"""The issue's done-when, on real processes: `cctag serve` and `cctag poll --metrics-port` with
JSON logs, a metrics token and known secrets, over PostgreSQL behind a proxy the test can cut,
the sandbox and the strict fake Slack. A command over signed HTTP runs to its end; readiness,
metrics, every log line and SIGTERM are checked on the way."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families

from bot.devkit.fakeslack import FakeSlackServer
from bot.devkit.local_slack import LocalSlack
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.threaded_server import free_port
from bot.store import Store
from tests.ops.proxy import TcpProxy
from tests.support.databases import require_postgres

CHANNEL = "C0OPS01"
SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-ops-known-bot-token-7d1f",
    "SLACK_SIGNING_SECRET": "ops-known-signing-secret-93ab",
    "CC_ACCESS_TOKEN": "ops-known-cc-access-token-55e0",
    "CC_REFRESH_TOKEN": "ops-known-cc-refresh-token-0c4d",
    "CC_CLIENT_SECRET": "ops-known-cc-client-secret-a2b9",
    "CCTAG_METRICS_TOKEN": "ops-known-metrics-token-61fe",
    "CCTAG_ENCRYPTION_KEY": Fernet.generate_key().decode(),
}
DB_PASSWORD = "ops-known-db-password-c3d8"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
JSON_KEYS = {"time", "level", "logger", "message"}


def wait_until(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class World:
    sandbox: SandboxServer
    slack: FakeSlackServer
    proxy: TcpProxy
    env: dict[str, str]
    direct_url: str
    logs: Path

    def start(self, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        log = self.logs / f"{len(list(self.logs.iterdir()))}-{args[0]}.log"
        with log.open("wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                env={**self.env, **extra},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log_lines(self) -> list[str]:
        return [
            line
            for log in sorted(self.logs.iterdir())
            for line in log.read_text(errors="replace").splitlines()
            if line.strip()
        ]

    def show_logs(self) -> None:
        for log in sorted(self.logs.iterdir()):
            print(f"----- {log.name}\n{log.read_text(errors='replace')[-6000:]}")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    url = require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    where = urlsplit(plain)
    proxy = TcpProxy((where.hostname or "127.0.0.1", where.port or 5432))
    proxy.up()
    user = where.username or "postgres"
    # The password is not needed on a trusting server; it is here to be kept out of the logs.
    via_proxy = (
        f"postgresql://{user}:{DB_PASSWORD}@127.0.0.1:{proxy.port}{where.path}"
        f"?options=-csearch_path%3D{schema}"
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        with (
            SandboxServer(
                activity_seconds=2.0,
                rate_per_second=50.0,
                access_token=SECRETS["CC_ACCESS_TOKEN"],
            ) as sandbox,
            FakeSlackServer() as slack,
        ):
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("CC_", "SLACK_", "CCTAG_"))
            }
            env.update(
                SECRETS,
                DATABASE_URL=via_proxy,
                SLACK_API_URL=slack.api_url,
                CC_API_URL=sandbox.base_url,
                CCTAG_LOG_FORMAT="json",
                CCTAG_RATE_PER_SECOND="40",
                CCTAG_POLL_INTERVAL="0.3",
                CCTAG_POLL_LEASE_SECONDS="2",
            )
            direct = f"{url}?options=-csearch_path%3D{schema}"
            yield World(sandbox, slack, proxy, env, direct, logs)
    finally:
        proxy.down()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'drop schema "{schema}" cascade')


def get(url: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url, headers=headers, timeout=5)


def answers(url: str) -> bool:
    try:
        return get(url).status_code < 500
    except httpx.HTTPError:
        return False


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(text: str, name: str, **labels: str) -> float:
    return sum(
        value
        for (sample, have), value in samples(text).items()
        if sample == name and set(labels.items()) <= set(have)
    )


def stop(process: subprocess.Popen[bytes], seconds: float = 25) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=seconds)


def test_serve_and_poll_are_operable(world: World) -> None:
    token = SECRETS["CCTAG_METRICS_TOKEN"]
    web_port, metrics_port = free_port(), free_port()
    web = world.start("serve", "--port", str(web_port))
    poller = world.start("poll", "--metrics-port", str(metrics_port))
    url, poll_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{metrics_port}"
    scraped: list[str] = []
    try:
        wait_until(lambda: answers(f"{url}/healthz"), 30, "cctag serve to answer")
        wait_until(lambda: answers(f"{poll_url}/metrics"), 30, "the poller's metrics")
        ready = get(f"{url}/readyz")
        assert ready.status_code == 200, ready.text

        for where in (url, poll_url):
            assert get(f"{where}/metrics").status_code == 401
            assert get(f"{where}/metrics", token="not-the-token").status_code == 401
        before = get(f"{url}/metrics", token).text
        assert total(before, "cctag_budget_left") == 10_000
        assert total(before, "cctag_database_up") == 1

        local = LocalSlack(
            f"{url}/slack/events", SECRETS["SLACK_SIGNING_SECRET"], world.slack.response_url
        )
        assert local.command('add VIP --lists "Newsletter"', channel=CHANNEL).status_code == 200
        store = Store(world.direct_url)
        try:
            wait_until(lambda: store.in_flight_count() == 1, 20, "the activity to be tracked")
            # The poller's first reply fails once: Slack's error is counted, and logged with
            # the activity's ids; the poller posts it on a later cycle.
            world.slack.fake.fail("chat.postMessage", "service_unavailable", times=1)
            wait_until(lambda: _ended(world), 30, "the activity's end in its thread")
            wait_until(lambda: store.in_flight_count() == 0, 20, "the activity to be settled")
        finally:
            store.close()

        after = get(f"{url}/metrics", token).text
        polled = get(f"{poll_url}/metrics", token).text
        scraped += [before, after, polled]
        assert total(after, "cctag_cc_requests_total") > total(before, "cctag_cc_requests_total")
        assert (
            total(
                after,
                "cctag_cc_requests_total",
                endpoint="/activities/contacts_taggings_add",
                status="201",
            )
            == 1
        )
        assert total(after, "cctag_ack_seconds_count", kind="command") == 1
        assert total(after, "cctag_budget_left") < 10_000
        assert total(polled, "cctag_cc_requests_total", endpoint="/activities") >= 1
        assert (
            total(
                polled,
                "cctag_slack_api_errors_total",
                method="chat.postMessage",
                error="service_unavailable",
            )
            == 1
        )
        assert (
            total(
                polled,
                "cctag_activity_duration_seconds_count",
                kind="contacts_taggings_add",
                state="completed",
            )
            == 1
        )
        assert total(polled, "cctag_activities_in_flight") == 0
        for text in scraped:  # ids never label a series
            assert not UUID.search(text)

        world.proxy.down()
        away = get(f"{url}/readyz")
        assert away.status_code == 503
        assert "cannot reach PostgreSQL" in away.json()["reason"]
        assert total(get(f"{url}/metrics", token).text, "cctag_database_up") == 0
        assert get(f"{url}/healthz").status_code == 503
        world.proxy.up()
        wait_until(lambda: get(f"{url}/readyz").status_code == 200, 10, "ready again")

        assert stop(web) == 0
        assert stop(poller) == 0
    finally:
        for process in (web, poller):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        world.show_logs()  # pytest shows a test's output only when it fails

    lines = world.log_lines()
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(set(line) >= JSON_KEYS for line in parsed)
    assert any(line.get("activity") and line.get("team") == "T0001" for line in parsed), lines
    for secret in [*SECRETS.values(), DB_PASSWORD]:
        assert not [line for line in lines if secret in line], secret
        assert not [text for text in scraped if secret in text], secret


def _ended(world: World) -> bool:
    parents = world.slack.fake.channel_messages(CHANNEL)
    if not parents:
        return False
    return any("*completed*" in m.text for m in world.slack.fake.thread(CHANNEL, parents[0].ts))


def test_sigterm_during_a_command_lets_its_launch_finish(world: World) -> None:
    port = free_port()
    web = world.start("serve", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(f"{url}/healthz"), 30, "cctag serve to answer")
        # The command's look-up of the lists takes 3 s: the stop lands in the middle of it.
        world.sandbox.faults.delay(3.0, path="/contact_lists", method="GET")
        local = LocalSlack(
            f"{url}/slack/events", SECRETS["SLACK_SIGNING_SECRET"], world.slack.response_url
        )
        assert local.command('add VIP --lists "Newsletter"', channel=CHANNEL).status_code == 200
        assert world.slack.fake.channel_messages(CHANNEL) == []  # the work is under way
        began = time.monotonic()
        assert stop(web, seconds=20) == 0
        assert time.monotonic() - began < 20
    finally:
        if web.poll() is None:
            web.kill()
            web.wait(timeout=10)
        world.show_logs()

    (parent,) = world.slack.fake.channel_messages(CHANNEL)
    store = Store(world.direct_url)
    try:
        (tracked,) = store.recent_activities("T0001")
    finally:
        store.close()
    # Launched whole: the parent names the activity, which is tracked for the poller.
    assert tracked.parent_ts == parent.ts
    assert tracked.activity_id in parent.text or tracked.activity_id in json.dumps(parent.blocks)
    assert world.sandbox.state.account().activities


def test_several_workers_count_as_one(world: World) -> None:
    token = SECRETS["CCTAG_METRICS_TOKEN"]
    port = free_port()
    web = world.start("serve", "--port", str(port), "--workers", "2")
    url = f"http://127.0.0.1:{port}"
    commands = 4
    try:
        wait_until(lambda: answers(f"{url}/healthz"), 60, "the workers to answer")
        secret = SECRETS["SLACK_SIGNING_SECRET"]
        local = LocalSlack(f"{url}/slack/events", secret, world.slack.response_url)
        for n in range(commands):
            assert local.command("tags", channel=CHANNEL, key=f"k{n}").status_code == 200
        wait_until(lambda: len(world.slack.fake.responses) >= commands, 20, "every answer")
        # Whichever worker answers the scrape, it adds up every worker's counts.
        for _ in range(8):
            scraped = get(f"{url}/metrics", token).text
            assert total(scraped, "cctag_ack_seconds_count", kind="command") == commands
            tags_read = total(scraped, "cctag_cc_requests_total", endpoint="/contact_tags")
            assert tags_read >= commands
        assert stop(web, seconds=20) == 0
    finally:
        if web.poll() is None:
            web.kill()
            web.wait(timeout=10)
        world.show_logs()
    lines = world.log_lines()
    assert all(set(json.loads(line)) >= JSON_KEYS for line in lines)
    assert not [line for line in lines if any(s in line for s in SECRETS.values())]
