"""`cctag shell`: the bot in a terminal, a second front end over the same pipeline and commands.

Its Constant Contact is the sandbox, in this process (activities take ~3 s); the poller runs in
a thread. Lines go straight to the pipeline (no Slack, no HTTP into the bot) and run in the
order typed on a worker thread, so the prompt never waits; what the bot says is printed as plain
text, and an activity's progress is one line updated in place.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, TextIO

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from bot.cc.budget import fair_limiter
from bot.cc.client import AccountClient, CCApi
from bot.cc.models import LimitError
from bot.cc.tokens import StaticTokens
from bot.clock import SYSTEM_CLOCK
from bot.devkit.sandbox.server import SandboxServer
from bot.poller import Poller
from bot.ports import SingleAccount, SingleSlack
from bot.settings import Settings
from bot.store import Store
from bot.usecases import Actor, Catalog, Operations
from bot.usecases.approvals import Approvals
from bot.usecases.commands import REGISTRY
from bot.usecases.grammar import split_command
from bot.usecases.people import MAX_CSV_BYTES, emails_in_csv
from bot.usecases.ports import Message, Pending
from bot.usecases.requests import Pipeline, Request
from bot.usecases.rules.runner import RuleRunner
from bot.worker import run_cycles

USER = "U0SHELL"
CHANNEL = "C0SHELL"
TEAM = "T0001"
DRAIN_SECONDS = 20.0
ACTIVITY_SECONDS = 3.0  # the demo's activities: long enough to watch them move
ANSWER_SECONDS = 30.0
PROMPT = "cctag> "
OPENING_MENTION = re.compile(r"^<@[A-Z0-9]+(?:\|[^>]*)?>\s*")
INTERRUPTED = "Stopped waiting (what was started goes on). Ctrl-C again, or quit, leaves."
CLEAR_LINE = "\r\x1b[2K"
BANNER = """cctag shell: the bot in your terminal (a sandbox Constant Contact, no Slack needed).
Try:
  help
  tags
  create Spring 2026
  add VIP --lists Newsletter
  add VIP --csv attendees.csv  (the emails of a CSV file)
  rename "Spring 2026" --to Spring fair 2026
  delete Volunteer          (then: yes)
  add                       (asks for the rest)
Answer yes or no to a confirmation; exit (or Ctrl-D) ends the session.
"""
QUESTIONS = {
    "add": ("Tags to add (separated by commas)",),
    "remove": ("Tags to remove (separated by commas)",),
    "delete": ("Tags to delete (separated by commas)",),
    "lists": ("Lists to add the contacts to (separated by commas)",),
    "unlists": ("Lists to remove the contacts from (separated by commas)",),
}
SOURCE_QUESTION = (
    "Which contacts (--lists <lists>, --tags <tags>, --contacts <emails>, --csv <file>, "
    "--all-active)"
)
EMOJI = {":warning:": "!", ":hourglass_flowing_sand:": "…"}
# `--csv <path>` (the path quoted if it holds spaces): the emails of a file, as --contacts.
CSV_SOURCE = re.compile(r"(?<!\S)--csv(?:\s+(?:\"([^\"]*)\"|(\S+)))?")
DEMO_CONTACTS = 200


class CsvRefused(Exception):
    """The file named by --csv cannot give emails; the message says why."""


def with_csv_emails(text: str) -> str:
    """The line with `--csv <path>` replaced by `--contacts <the file's emails>`."""
    found = CSV_SOURCE.search(text)
    if found is None:
        return text
    path = found.group(1) or found.group(2)
    if not path:
        raise CsvRefused("--csv needs the path of a CSV file: add VIP --csv attendees.csv")
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CSV_BYTES + 1)  # one byte more tells it is too large
    except FileNotFoundError:
        raise CsvRefused(f"There is no file at {path}") from None
    except IsADirectoryError:
        raise CsvRefused(f"{path} is a folder, not a CSV file") from None
    except OSError as exc:
        raise CsvRefused(f"The file {path} cannot be read ({exc.strerror or exc})") from None
    try:
        emails = emails_in_csv(data)
    except LimitError as exc:
        raise CsvRefused(f"{path}: {exc}") from None
    return f"{text[: found.start()]}--contacts {', '.join(emails)}{text[found.end() :]}"


def plain(text: str) -> str:
    """The small markup of the bot's messages, as a person reads it in a terminal."""
    text = re.sub(r"<@([A-Z0-9]+)(?:\|[^>]*)?>", _mention, text)
    text = re.sub(r"<#([A-Z0-9]+)(?:\|([^>]*))?>", lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = re.sub(r"<((?:https?|mailto):[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"`([^`\n]+)`", r"\1", text)
    for code, shown in EMOJI.items():
        text = text.replace(code, shown)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _mention(found: re.Match[str]) -> str:
    return "you" if found.group(1) == USER else f"@{found.group(1)}"


class Screen:
    """Everything printed goes through here: one lock, and the progress line kept in place."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()
        self._progress = False
        self._terminal = out.isatty()
        self._last_progress = ""

    def line(self, who: str, text: str) -> None:
        with self._lock:
            if self._progress:
                self._out.write("\n")
                self._progress = False
            self._out.write(f"[{who}] {plain(text)}\n")
            self._out.flush()

    def progress(self, text: str) -> None:
        """On a terminal, rewrite the one progress line in place; elsewhere (a pipe, a log)
        no control codes: a line for each new progress text."""
        shown = f"[progress] {plain(text)}"
        with self._lock:
            if not self._terminal:
                if shown != self._last_progress:
                    self._out.write(shown + "\n")
                    self._last_progress = shown
            else:
                self._out.write(CLEAR_LINE + shown)
                self._progress = True
            self._out.flush()

    def ask(self, question: str) -> None:
        with self._lock:
            self._out.write(f"{question}: ")
            self._out.flush()


@dataclass
class _Posted:
    channel: str
    thread_ts: str | None
    metadata: dict[str, Any] | None


class TerminalSlack(WebClient):
    """The poller's Slack: chat.postMessage, chat.update and conversations.replies kept in memory
    and shown on the screen (thread replies as lines, progress edits in place)."""

    def __init__(self, screen: Screen) -> None:
        super().__init__(token="xoxb-shell")
        self.screen = screen
        self.messages: dict[str, _Posted] = {}
        self._lock = threading.Lock()
        self._next = 0

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        args: dict[str, Any] = kwargs.get("json") or kwargs.get("params") or {}
        handlers = {
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "conversations.replies": self._replies,
        }
        if api_method not in handlers:
            return self._answer(api_method, {"ok": False, "error": "unknown_method"})
        return self._answer(api_method, handlers[api_method](args))

    def _answer(self, method: str, data: dict[str, Any]) -> SlackResponse:
        return SlackResponse(
            client=self,
            http_verb="POST",
            api_url=method,
            req_args={},
            data=data,
            headers={},
            status_code=200,
        ).validate()

    def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._next += 1
            ts = f"{int(time.time())}.{self._next:06d}"
        thread = args.get("thread_ts")
        if thread and thread not in self.messages:
            return {"ok": False, "error": "thread_not_found"}  # as Slack answers
        self.messages[ts] = _Posted(str(args["channel"]), thread, args.get("metadata"))
        text = str(args.get("text", ""))
        if self._is_progress(ts):
            self.screen.progress(text)
        elif thread:
            # A reply opens with the requester's mention, Slack's notification: the terminal has
            # one reader, and "you completed: …" would read as if they did the work.
            self.screen.line("thread", OPENING_MENTION.sub("", text, count=1))
        else:
            self.screen.line("#channel", text)
        return {"ok": True, "ts": ts, "channel": args["channel"]}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args["ts"])
        if ts not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        text = str(args.get("text", ""))
        if self._is_progress(ts):
            self.screen.progress(text)
        else:
            where = "thread" if self.messages[ts].thread_ts else "#channel"
            self.screen.line(f"{where}, edited", text)
        return {"ok": True, "ts": ts, "channel": args["channel"]}

    def _replies(self, args: dict[str, Any]) -> dict[str, Any]:
        parent = str(args["ts"])
        found = [
            {"ts": ts, "metadata": posted.metadata or {}}
            for ts, posted in list(self.messages.items())
            if posted.thread_ts == parent
        ]
        return {"ok": True, "messages": found, "has_more": False}

    def _is_progress(self, ts: str) -> bool:
        meta = self.messages[ts].metadata or {}
        return (meta.get("event_payload") or {}).get("state") == "progress"


class TerminalConversation:
    """The Conversation port in a terminal: replies as lines, a confirmation as a yes/no."""

    def __init__(self, screen: Screen, slack: TerminalSlack) -> None:
        self._screen = screen
        self._slack = slack
        self.pending: Pending | None = None

    def say(self, message: Message) -> None:
        text = message.text + (f"\n  ({message.note})" if message.note else "")
        self._screen.line("cctag", text)

    def refuse(self, reason: str) -> None:
        self._screen.line("cctag", f"! {reason} (nothing was changed)")

    def ask_to_confirm(self, preview: Message, pending: Pending) -> None:
        self.pending = pending
        self._screen.line("cctag", preview.text + "\nStart it? (answer yes or no)")

    def open_form(self, command: str) -> None:
        self._screen.line("cctag", f"Type the rest after `{command}`, or `{command}` alone.")

    def post_parent(self, channel: str, message: Message) -> str:
        return str(self._slack.chat_postMessage(channel=channel, text=message.text)["ts"])

    def update_parent(self, channel: str, ref: str, message: Message) -> None:
        self._slack.chat_update(channel=channel, ts=ref, text=message.text)


class ShellApprovers:
    """The shell's person is its workspace's admin: they may decide any request."""

    def may_approve(self, workspace_id: str, user_id: str) -> bool:
        return user_id == USER

    def approvers(self, workspace_id: str) -> list[str]:
        return [USER]


class ShellApprovalPosts:
    """A request's messages and the requester's word, as lines on the screen."""

    def __init__(self, screen: Screen) -> None:
        self._screen = screen

    def post_request(
        self, workspace_id: str, where: str, message: Message, approval_id: str
    ) -> tuple[str, str]:
        self._screen.line("approvals", f"{message.text}\nApprove or deny: approve {approval_id}")
        return where, approval_id

    def update_request(
        self, workspace_id: str, conversation: str, ts: str, message: Message
    ) -> None:
        self._screen.line("approvals", message.text)

    def tell(self, workspace_id: str, user_id: str, message: Message) -> None:
        self._screen.line(f"to {user_id}", message.text)


@dataclass
class Session:
    pipeline: Pipeline
    screen: Screen
    talk: TerminalConversation
    lines: TextIO
    work: ThreadPoolExecutor
    demo: str = ""
    last: Future[None] | None = None

    def submit(self, run: Any, *args: Any) -> None:
        self.last = self.work.submit(_logged, run, *args)

    def settle(self) -> None:
        """A yes or no answers the question the last command asks: let it be asked first."""
        if self.last is not None:
            self.last.result(timeout=ANSWER_SECONDS)


def _logged(run: Any, *args: Any) -> None:
    try:
        run(*args)
    except Exception:
        logging.getLogger(__name__).exception("shell work failed")


def _request(text: str) -> Request:
    return Request(Actor(TEAM, USER), text, CHANNEL, once=f"shell:{uuid.uuid4().hex}")


def _answer(session: Session, yes: bool) -> None:
    session.settle()
    pending, session.talk.pending = session.talk.pending, None
    if pending is None:
        session.screen.line("shell", "Nothing is waiting for a yes or no.")
        return
    request = _request(pending.line or "")
    if yes:
        session.submit(session.pipeline.confirmed, request, pending, session.talk)
    else:
        session.submit(session.pipeline.cancelled, request, session.talk)


def _completed(session: Session, text: str) -> str | None:
    """A bare add/remove/delete/lists/unlists: ask for the rest here (Slack opens a modal)."""
    line = split_command(text)
    if line.rest or line.name not in QUESTIONS:
        return text
    parts = [line.name]
    questions = QUESTIONS[line.name] + (() if line.name == "delete" else (SOURCE_QUESTION,))
    for question in questions:
        session.screen.ask(question)
        answer = session.lines.readline().strip()
        if not answer:
            session.screen.line("shell", "Nothing was started.")
            return None
        parts.append(answer)
    return " ".join(parts)


def _handle(session: Session, raw: str) -> bool:
    """One input line; False ends the session."""
    text = raw.strip().removeprefix("/cctag").strip()
    if not text:
        return True
    if text.lower() in ("exit", "quit"):
        return False
    if text.lower() in ("yes", "y", "no", "n"):
        _answer(session, text.lower().startswith("y"))
        return True
    full = _completed(session, text)
    if full is None:
        return True
    if split_command(full).name == "help" and session.demo:
        session.submit(_help_here, session, _request(full))
        return True
    try:
        full = with_csv_emails(full)
    except CsvRefused as exc:
        session.talk.refuse(str(exc))
        return True
    session.submit(session.pipeline.handle, _request(full), session.talk)
    return True


def _help_here(session: Session, request: Request) -> None:
    session.pipeline.handle(request, session.talk)
    session.screen.line("shell", session.demo)


def _in_flight(store: Store, since: Any) -> int:
    recent = store.recent_activities(TEAM, limit=100)
    return sum(1 for t in recent if not t.finished and t.created_at >= since)


@contextmanager
def poller_thread(
    store: Store,
    account: AccountClient,
    slack: WebClient,
    rules: RuleRunner | None = None,
    interval: float = 1.0,
) -> Iterator[None]:
    """The worker in a thread of this process (the shell's, and the simulation's): the poller,
    and the rules' runs when `rules` is given."""
    owner = f"shell-{uuid.uuid4().hex[:8]}"
    poller = Poller(
        store,
        SingleAccount(account),
        SingleSlack(slack),
        SYSTEM_CLOCK,
        owner=owner,
        base_interval=interval,
    )
    stop = threading.Event()
    cycles = [partial(poller.run_once, stop)] + ([rules.run_due] if rules is not None else [])
    thread = threading.Thread(
        target=run_cycles,
        args=(stop, cycles),
        kwargs={"fallback": interval, "longest": interval},
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def quiet_logs() -> None:
    """Log records never reach the chat: a warning to stderr would read as a stack trace."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


def _loop(session: Session, out: TextIO) -> bool:
    """Lines until exit, end of input or a second Ctrl-C in a row (then True: leave at once).
    A first Ctrl-C only stops what the shell waits for (a question, an answer)."""
    prompt = PROMPT if session.lines.isatty() else ""  # piped lines need no prompt
    interrupted = False
    while True:
        out.write(prompt)
        out.flush()
        try:
            raw = session.lines.readline()
            if not raw or not _handle(session, raw):
                return False
        except KeyboardInterrupt:
            if interrupted:
                return True
            interrupted = True
            session.screen.line("shell", INTERRUPTED)
            continue
        interrupted = False


def run_shell(
    settings: Settings,
    input_stream: TextIO,
    out: TextIO,
    *,
    contacts: int = DEMO_CONTACTS,
    database_url: str | None = None,
    activity_seconds: float = ACTIVITY_SECONDS,
) -> int:
    """`contacts`: how many demo contacts the session's sandbox account holds;
    `activity_seconds`: how long its activities run (long enough to watch them move).

    The session keeps its own database (a temporary SQLite file, unless `database_url`): its
    sandbox lives and dies with the process, so nothing an earlier session left (an activity
    cut short by Ctrl-C) can be followed against it, and DATABASE_URL, perhaps a real
    deployment's, is never touched by a sandbox session."""
    with tempfile.TemporaryDirectory(prefix="cctag-shell-") as folder:
        url = database_url or f"sqlite:///{folder}/shell.db"
        return _session(url, input_stream, out, contacts, activity_seconds)


def _session(
    database_url: str, input_stream: TextIO, out: TextIO, contacts: int, activity_seconds: float
) -> int:
    store = Store(database_url)
    store.upgrade()
    quiet_logs()
    screen = Screen(out)
    slack = TerminalSlack(screen)
    started_at = SYSTEM_CLOCK.now()
    with SandboxServer(activity_seconds=activity_seconds, contacts=contacts) as sandbox:
        api = CCApi(sandbox.base_url, fair_limiter(rate_per_second=4.0, headroom=0.05))
        account = api.for_account(StaticTokens(sandbox.access_token))
        operations = Operations(store, Catalog(clock=SYSTEM_CLOCK))
        approvals = Approvals(store, ShellApprovalPosts(screen), ShellApprovers())
        pipeline = Pipeline(operations, SingleAccount(account), REGISTRY, approvals=approvals)
        talk = TerminalConversation(screen, slack)
        owner = f"shell-{uuid.uuid4().hex[:8]}"
        rules = RuleRunner(pipeline, lambda _: talk, SYSTEM_CLOCK, owner=owner)
        poll = min(1.0, activity_seconds / 3)  # a few looks at each activity as it runs
        worker = poller_thread(store, account, slack, rules, interval=poll)
        with worker, ThreadPoolExecutor(1, "cctag-shell") as work:
            out.write(BANNER)
            session = Session(pipeline, screen, talk, input_stream, work, demo=demo_text(sandbox))
            left_at_once = _loop(session, out)
            try:
                if not left_at_once:
                    _drain(work, store, started_at)
            except KeyboardInterrupt:
                pass  # Ctrl-C while waiting for the last activities: leave now
            work.shutdown(wait=False, cancel_futures=True)
        api.close()
    store.close()
    screen.line("shell", "bye")
    return 0


def _drain(work: ThreadPoolExecutor, store: Store, started_at: Any) -> None:
    """The activities started here run to their end before we leave (Ctrl-C stops waiting)."""
    work.shutdown(wait=True)
    deadline = time.monotonic() + DRAIN_SECONDS
    while _in_flight(store, started_at) and time.monotonic() < deadline:
        time.sleep(0.1)


def demo_text(sandbox: SandboxServer) -> str:
    """What the session's sandbox holds, for `help`: names a newcomer can type at once."""
    account = sandbox.state.account()
    lists = ", ".join(sorted(x.name for x in account.lists.values()))
    tags = ", ".join(sorted(t.name for t in account.tags.values()))
    segments = ", ".join(
        f"{name} ({ident})" for ident, name in sorted(account.segment_names.items())
    )
    book = account.campaigns
    campaigns = ", ".join(sorted(c.name for c in book.campaigns.values())[:8]) if book else ""
    count = len(account.contacts)
    return (
        "In this shell: `--csv <path>` is a source too (the emails of a CSV file: "
        "`add VIP --csv attendees.csv`); `show lists`, `show segments`, `show campaigns` name "
        "what the account holds; Ctrl-C stops waiting, a second Ctrl-C (or `quit`) leaves.\n"
        f"The demo account: contacts contact1@example.com … contact{count}@example.com; "
        f"lists {lists}; tags {tags}; segments {segments}; campaigns {campaigns}."
    )
