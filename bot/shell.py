"""`cctag shell`: the real bolt app in a terminal, with no Slack and no Constant Contact account.

Embedded defaults: a throwaway SQLite file, the sandbox and the fake Slack in-process, the
poller in a thread. Each line goes to the bolt app as a signed slash-command request over
HTTP on 127.0.0.1, exactly as Slack would send it; ephemeral replies, channel messages and
thread replies are printed as they come. A confirmation is answered with `yes` or `no`.
"""

from __future__ import annotations

import json
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from typing import Any, TextIO

from slack_sdk import WebClient

from bot.cc.client import CCApi
from bot.cc.ratelimit import TokenBucketLimiter
from bot.cc.tokens import StaticTokens
from bot.clock import SYSTEM_CLOCK
from bot.fakeslack.server import FakeSlackServer, SlackMessage
from bot.poller import Poller
from bot.ports import SingleAccount, SingleSlack
from bot.sandbox.server import SandboxServer
from bot.settings import Settings
from bot.slack import views
from bot.slack.app import WORKING, create_app
from bot.slack.local import SlackSender, button_click, command_body, payload_body
from bot.store import Store
from bot.testing_server import ThreadedServer
from bot.web import create_web_app

TEAM, USER, CHANNEL = "T0SHELL", "U0YOU", "C0SHELL"
QUIET_SECONDS = 0.5
MENTION = re.compile(r"<@([A-Z0-9]+)>")
CHANNEL_LINK = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>")
WELCOME = (
    "cctag shell: a local Slack workspace and Constant Contact sandbox. Type /cctag help; "
    "answer confirmations with yes or no; exit ends."
)


def _plain(text: str) -> str:
    text = MENTION.sub(lambda m: "@you" if m.group(1) == USER else f"@{m.group(1)}", text)
    return CHANNEL_LINK.sub(lambda m: f"#{m.group(1)}", text)


class _Printer:
    """Prints what the fake Slack receives, as it receives it; remembers pending confirmations."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()
        self.last_event = time.monotonic()
        self.events = 0
        self.confirmation: str | None = None

    def line(self, text: str) -> None:
        with self._lock:
            self._out.write(_plain(text) + "\n")
            self._out.flush()
            self.last_event = time.monotonic()
            self.events += 1

    def on_event(self, event: str, payload: SlackMessage | dict[str, Any]) -> None:
        if isinstance(payload, SlackMessage):
            self._message(event, payload)
        elif event == "response":
            self._response(payload)
        elif event == "view":
            self._view(payload)

    def _message(self, event: str, message: SlackMessage) -> None:
        edited = " (edited)" if event == "updated" else ""
        if message.user is not None:
            self.line(f"  (only you) {message.text}")
        elif message.thread_ts:
            self.line(f"    ↳{edited} {message.text}")
        else:
            self.line(f"  [#{message.channel}]{edited} {message.text}")

    def _response(self, payload: dict[str, Any]) -> None:
        self.line(f"  (only you) {payload.get('text', '')}")
        plan_id = _confirm_value(payload.get("blocks") or [])
        if plan_id is not None:
            self.confirmation = plan_id
            self.line("  Confirm? Type yes or no.")

    def _view(self, view: dict[str, Any]) -> None:
        if view.get("type") != "modal":
            return
        title = (view.get("title") or {}).get("text", "")
        self.line(
            f"  (a “{title}” form opened in Slack; the shell has no forms, so use the one-line "
            "form: /cctag help shows it)"
        )


def _confirm_value(blocks: list[dict[str, Any]]) -> str | None:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == views.ACTION_CONFIRM:
                return str(element.get("value"))
    return None


class _Session:
    def __init__(
        self, sender: SlackSender, slack: FakeSlackServer, store: Store, printer: _Printer
    ) -> None:
        self._sender = sender
        self._slack = slack
        self._store = store
        self._printer = printer
        self._count = 0

    def handle(self, line: str, idle_timeout: float) -> None:
        answer = line.strip().lower()
        if self._printer.confirmation is not None and answer in ("yes", "y", "no", "n"):
            self._answer(answer.startswith("y"))
            follow_up = True
        elif line.startswith("/") and not line.startswith("/cctag"):
            self._printer.line("  Only /cctag is known here.")
            return
        else:
            follow_up = self._command(line.removeprefix("/cctag").strip())
        self._wait_until_settled(idle_timeout, follow_up)

    def _url(self) -> str:
        self._count += 1
        return self._slack.response_url(f"shell{self._count}")

    def _command(self, text: str) -> bool:
        """Send the command; answer whether more than its ack is coming."""
        body = command_body(text, team=TEAM, user=USER, channel=CHANNEL, response_url=self._url())
        acked = self._ack_text(self._sender.post(body).text)
        if acked and acked != WORKING:
            self._printer.line(f"  (only you) {acked}")
            return False
        if acked:
            self._printer.line(f"  (only you) {acked}")
        return True

    def _answer(self, confirmed: bool) -> None:
        plan_id, self._printer.confirmation = self._printer.confirmation or "", None
        action = views.ACTION_CONFIRM if confirmed else views.ACTION_CANCEL
        click = button_click(
            action, plan_id, team=TEAM, user=USER, channel=CHANNEL, response_url=self._url()
        )
        self._sender.post(payload_body(click))

    @staticmethod
    def _ack_text(body: str) -> str:
        try:
            return str(json.loads(body).get("text", "")) if body else ""
        except ValueError:
            return body

    def _wait_until_settled(self, idle_timeout: float, follow_up: bool) -> None:
        """Until the answer came, nothing is in flight and Slack has been quiet a moment."""
        deadline = time.monotonic() + idle_timeout
        events = self._printer.events
        self._printer.last_event = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            answered = not follow_up or self._printer.events > events
            quiet = time.monotonic() - self._printer.last_event >= QUIET_SECONDS
            if answered and quiet and self._store.in_flight_count() == 0:
                return


def _lines(input_lines: Iterable[str], out: TextIO, echo: bool) -> Iterator[str]:
    lines = iter(input_lines)
    while True:
        out.write("cctag> ")
        out.flush()
        line = next(lines, None)
        if line is None:
            out.write("\n")
            return
        if echo:
            out.write(line.rstrip("\n") + "\n")
        yield line.rstrip("\n")


def _serve(stack: ExitStack, server: SandboxServer | ThreadedServer) -> None:
    server.start()
    stack.callback(server.stop)


def run_shell(
    settings: Settings,
    input_lines: Iterable[str],
    out: TextIO,
    *,
    activity_seconds: float = 3.0,
    poll_interval: float = 0.5,
    idle_timeout: float = 60.0,
) -> int:
    """Read lines until they end (or `exit`); answer 0."""
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="cctag-shell-"))
        database_url = f"sqlite:///{folder}/shell.db"
        sandbox = SandboxServer(activity_seconds=activity_seconds)
        _serve(stack, sandbox)
        slack = FakeSlackServer()
        _serve(stack, slack)
        store = Store(database_url, SYSTEM_CLOCK)
        store.upgrade()
        stack.callback(store.close)
        api = CCApi(sandbox.base_url, TokenBucketLimiter(rate_per_second=4.0))
        stack.callback(api.close)
        accounts = SingleAccount(api.for_account(StaticTokens(sandbox.access_token)))
        client = WebClient(token="xoxb-shell", base_url=slack.api_url)
        secret = secrets.token_hex(16)
        local = settings.model_copy(
            update={"slack_signing_secret": secret, "database_url": database_url}
        )
        bolt = create_app(local, store, accounts, client, SYSTEM_CLOCK)
        web = ThreadedServer(create_web_app(bolt, store))
        _serve(stack, web)
        printer = _Printer(out)
        slack.fake.listeners.append(printer.on_event)
        poller = Poller(
            store,
            accounts,
            SingleSlack(client),
            SYSTEM_CLOCK,
            owner="shell",
            base_interval=poll_interval,
            min_interval=poll_interval / 2,
        )
        stop = threading.Event()
        thread = threading.Thread(target=poller.run_forever, args=(stop,), daemon=True)
        thread.start()
        stack.callback(thread.join, 10)
        stack.callback(stop.set)
        sender = SlackSender(web.url, secret)
        stack.callback(sender.close)
        session = _Session(sender, slack, store, printer)
        printer.line(WELCOME)
        echo = not getattr(input_lines, "isatty", lambda: False)()
        for line in _lines(input_lines, out, echo):
            if line.strip().lower() in ("exit", "quit"):
                break
            if line.strip() and not line.lstrip().startswith("#"):
                session.handle(line.strip(), idle_timeout)
    return 0
