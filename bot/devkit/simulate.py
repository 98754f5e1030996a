"""The whole stack in one process, for tests and benchmarks: the sandbox, FakeSlack, the real
web app behind a local port and the poller in a thread. Each line is sent to the app as a
signed slash command over HTTP; what the bot says (ephemeral replies, the channel, threads) is
printed as it arrives. (`cctag shell` is the terminal front end; this drives the Slack one.)
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from slack_sdk import WebClient

from bot.cc.client import CCApi
from bot.cc.ratelimit import SpacingLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import SYSTEM_CLOCK
from bot.devkit.fakeslack.server import FakeSlackServer, SlackMessage
from bot.devkit.local_slack import LocalSlack
from bot.devkit.sandbox.server import SandboxServer
from bot.devkit.threaded_server import ThreadedServer
from bot.ports import SingleAccount
from bot.settings import Settings
from bot.shell import poller_thread, quiet_logs
from bot.slack.app import create_app
from bot.slack.views import CANCEL_COMMAND, CONFIRM_COMMAND
from bot.store import Store
from bot.web import create_web_app

USER = "U0SHELL"
CHANNEL = "C0SHELL"
TEAM = "T0001"
ANSWER_SECONDS = 20.0
DRAIN_SECONDS = 20.0
BANNER = """cctag simulation: a local chat with the bot (sandbox Constant Contact, no Slack needed).
Try:
  /cctag help
  /cctag tags
  /cctag add VIP --lists "Newsletter"
  /cctag lists "VIP Customers" --tags "Donor 2025"
  /cctag delete Volunteer          (then: yes)
Answer `yes` or `no` to a confirmation; `exit` (or Ctrl-D) ends the session.
"""


def _plain(payload: dict[str, Any]) -> str:
    """The text a person reads: the message's section texts, else its text."""
    parts = []
    for block in payload.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "mrkdwn":
                parts.append(element.get("text", ""))
    return "\n".join(parts) or str(payload.get("text") or "")


class Printer:
    """Prints what the fake Slack receives; remembers the last confirmation's buttons."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()
        self.pending: dict[str, dict[str, Any]] = {}
        self.answered = threading.Event()

    def __call__(self, event: str, payload: SlackMessage | dict[str, Any]) -> None:
        if isinstance(payload, SlackMessage):
            self._message(event, payload)
        elif event == "response":
            self._response(payload)
        elif event == "view":
            self.write(
                "modal",
                f"{payload.get('title', {}).get('text', '')} (forms need Slack;"
                " use the one-line form here)",
            )

    def _message(self, event: str, message: SlackMessage) -> None:
        text = _plain({"text": message.text, "blocks": message.blocks})
        if event == "ephemeral":
            self.write("only you", text)
        elif message.thread_ts is None:
            self.write("#channel" + (" (edited)" if event == "updated" else ""), text)
        else:
            self.write("thread" + (" (edited)" if event == "updated" else ""), text)

    def _response(self, payload: dict[str, Any]) -> None:
        buttons = [
            element
            for block in payload.get("blocks") or []
            if block.get("type") == "actions"
            for element in block.get("elements") or []
        ]
        self.pending = {b["action_id"]: b for b in buttons}
        text = _plain(payload)
        if buttons:
            text += "\n(answer yes or no)"
        self.write("only you", text)
        if not text.startswith(":hourglass"):
            self.answered.set()

    def write(self, who: str, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        with self._lock:
            self._out.write(f"[{stamp} {who}] {text}\n")
            self._out.flush()


@dataclass
class _Session:
    store: Store
    local: LocalSlack
    printer: Printer
    started_at: datetime


def _wait(event: threading.Event, seconds: float) -> None:
    event.wait(seconds)


def _send(session: _Session, line: str) -> bool:
    """Handle one input line; False ends the session."""
    text = line.strip()
    if not text:
        return True
    if text.lower() in ("exit", "quit"):
        return False
    printer = session.printer
    printer.answered.clear()
    if text.lower() in ("yes", "y", "no", "n"):
        wanted = CONFIRM_COMMAND if text.lower().startswith("y") else CANCEL_COMMAND
        button = printer.pending.get(wanted)
        if button is None:
            printer.write("shell", "Nothing is waiting for a yes or no.")
            return True
        printer.pending = {}
        session.local.click(button, user=USER, channel=CHANNEL)
    else:
        command = text.removeprefix("/cctag").strip()
        answer = session.local.command(command, user=USER, channel=CHANNEL)
        if answer.status_code != 200:
            printer.write("shell", f"The app answered HTTP {answer.status_code}")
            return True
    _wait(printer.answered, ANSWER_SECONDS)
    return True


def _in_flight(session: _Session) -> int:
    recent = session.store.recent_activities(TEAM, limit=100)
    return sum(1 for t in recent if not t.finished and t.created_at >= session.started_at)


def _drain(session: _Session, deadline: float) -> None:
    while _in_flight(session) and time.monotonic() < deadline:
        time.sleep(0.1)


def run_simulation(settings: Settings, input_stream: TextIO, out: TextIO) -> int:
    secret = uuid.uuid4().hex
    store = Store(settings.database_url)
    store.upgrade()
    printer = Printer(out)
    quiet_logs()
    sandbox, slack = SandboxServer(activity_seconds=3.0), FakeSlackServer()
    with sandbox, slack:
        slack.fake.listeners.append(printer)
        api = CCApi(sandbox.base_url, SpacingLimiter(rate_per_second=4.0))
        account = api.for_account(StaticTokens(sandbox.access_token))
        client = WebClient(token="xoxb-shell", base_url=slack.api_url)
        app_settings = settings.model_copy(update={"slack_signing_secret": secret})
        app = create_app(app_settings, store, SingleAccount(account), client, SYSTEM_CLOCK)
        with (
            ThreadedServer(create_web_app(app, store, signing_secret=secret)) as web,
            poller_thread(store, account, client),
        ):
            local = LocalSlack(f"{web.url}/slack/events", secret, slack.response_url, team=TEAM)
            session = _Session(store, local, printer, SYSTEM_CLOCK.now())
            out.write(BANNER)
            out.flush()
            for line in input_stream:
                if not _send(session, line):
                    break
            _drain(session, time.monotonic() + DRAIN_SECONDS)
        api.close()
    store.close()
    out.write("bye\n")
    out.flush()
    return 0
