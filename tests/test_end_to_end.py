"""The issue's end-to-end check: `cctag serve` and `cctag poll` as real processes, three one-line
adds, the poller killed with SIGKILL half-way and started again: each activity's end is posted
in its thread exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bot.devkit.fakeslack import FakeSlack, FakeSlackServer, SlackMessage
from bot.devkit.local_slack import LocalSlack
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.threaded_server import free_port
from bot.store import Store

SECRET = "e2e-signing-secret"
CHANNELS = ("C0E2E1", "C0E2E2", "C0E2E3")


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[SandboxServer, FakeSlackServer, dict[str, str]]]:
    with (
        SandboxServer(activity_seconds=6.0, rate_per_second=50.0) as sandbox,
        # A killed poller can leave a reply half-posted in each of the three threads; reading
        # them back at 1 a minute (a new app's limit) would take minutes of real time, since
        # the processes cannot share a fake clock: this app is taken to be a Marketplace one.
        FakeSlackServer(FakeSlack(replies_per_minute=50)) as slack,
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CC_", "SLACK_"))}
        env.update(
            DATABASE_URL=f"sqlite:///{tmp_path}/cctag.db",
            SLACK_BOT_TOKEN="xoxb-e2e",
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.api_url,
            CC_API_URL=sandbox.base_url,
            CC_ACCESS_TOKEN=sandbox.access_token,
            CCTAG_RATE_PER_SECOND="40",
            CCTAG_POLL_INTERVAL="0.5",
            CCTAG_POLL_LEASE_SECONDS="2",
            CCTAG_SLACK_READS_PER_MINUTE="50",
        )
        yield sandbox, slack, env


def start(env: dict[str, str], logs: Path, *args: str) -> subprocess.Popen[bytes]:
    """`cctag <args>` as a process; its output goes to a file in `logs`, shown if the test fails."""
    log = logs / f"{len(list(logs.iterdir()))}-{args[0]}.log"
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def show_logs(logs: Path) -> None:
    for log in sorted(logs.iterdir()):
        print(f"----- {log.name}\n{log.read_text(errors='replace')[-4000:]}")


def replies(slack: FakeSlackServer, channel: str) -> list[SlackMessage]:
    parents = slack.fake.channel_messages(channel)
    return slack.fake.thread(channel, parents[0].ts) if parents else []


def test_three_adds_end_once_each_across_a_killed_poller(
    world: tuple[SandboxServer, FakeSlackServer, dict[str, str]], tmp_path: Path
) -> None:
    sandbox, slack, env = world
    logs = tmp_path / "logs"
    logs.mkdir()
    port = free_port()
    web = start(env, logs, "serve", "--port", str(port))
    poller = start(env, logs, "poll")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(url), 30, "cctag serve to answer /healthz")
        local = LocalSlack(f"{url}/slack/events", SECRET, slack.response_url)
        for channel, list_name in zip(CHANNELS, ("Newsletter", "Donors", "Prospects"), strict=True):
            answer = local.command(f'add VIP --lists "{list_name}"', channel=channel)
            assert answer.status_code == 200

        wait_until(
            lambda: all("processing" in _texts(replies(slack, c)) for c in CHANNELS),
            30,
            "every activity to be seen processing",
        )
        poller.send_signal(signal.SIGKILL)
        poller.wait(timeout=10)
        poller = start(env, logs, "poll")

        def ended(channel: str) -> bool:
            return "completed" in _texts(replies(slack, channel))

        wait_until(lambda: all(ended(c) for c in CHANNELS), 60, "every end to be posted")
        # Once no activity is in flight the pollers have nothing left to post: count then.
        store = Store(env["DATABASE_URL"])
        try:
            wait_until(lambda: store.in_flight_count() == 0, 30, "every activity to be settled")
        finally:
            store.close()
        for channel in CHANNELS:
            (parent,) = slack.fake.channel_messages(channel)
            assert "completed" in parent.text
            ends = [m for m in replies(slack, channel) if "*completed*" in m.text]
            assert len(ends) == 1, [m.text for m in replies(slack, channel)]
            processing = [m for m in replies(slack, channel) if "now *processing*" in m.text]
            assert len(processing) == 1
        account = sandbox.state.account()
        vip = account.tag_by_name("VIP")
        assert vip is not None
        for record in account.lists.values():
            if record.name in ("Newsletter", "Donors", "Prospects"):
                assert account.list_members[record.list_id] <= account.tag_members[vip.tag_id]
    finally:
        for process in (web, poller):
            process.kill()
            process.wait(timeout=10)
        show_logs(logs)  # pytest shows a test's output only when it fails


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _texts(messages: list[SlackMessage]) -> str:
    return "\n".join(m.text for m in messages)
