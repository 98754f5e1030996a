"""The `cctag` command: serve, poll, sandbox, shell, db upgrade (the README lists them)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from bot.settings import (
    Settings,
    SettingsError,
    ensure_port_free,
    load_settings,
    refuse_in_memory,
)
from bot.store.engine import DatabaseUnusable

USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse, whose errors end in one line (not a usage dump) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"cctag: {message} (see cctag --help)", file=sys.stderr)
        sys.exit(USAGE_ERROR)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65_535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1 to 65535)")
    return port


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a number above 0")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cctag", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the Slack app (HTTP, or Socket Mode)")
    serve.add_argument("--port", type=_port, help="HTTP port (else $PORT, else 3000)")

    commands.add_parser("poll", help="run the activity poller until stopped")

    sandbox = commands.add_parser("sandbox", help="serve the local Constant Contact sandbox")
    sandbox.add_argument("--port", type=_port, default=8765)
    sandbox.add_argument("--access-token", help="accept this token too (sandbox-token always)")
    sandbox.add_argument("--activity-seconds", type=_positive, default=5.0)
    sandbox.add_argument("--rate", type=_positive, default=4.0, help="requests per second per key")
    sandbox.add_argument("--contacts", type=_count, default=200, help="demo contacts to seed")

    commands.add_parser("shell", help="chat with the bot in the terminal (no Slack needed)")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="bring the schema up to date")
    return parser


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _handle(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)
    return stop


def _serve(settings: Settings, port: int | None) -> int:
    from bot import wiring

    if port is not None:
        settings = settings.model_copy(update={"port": port})
    return wiring.serve(settings)


def _poll(settings: Settings) -> int:
    from bot import wiring

    return wiring.poll(settings, _stop_on_signals())


def _sandbox(args: argparse.Namespace) -> int:
    from bot.devkit.sandbox.server import serve

    ensure_port_free(args.port, "--port", host="127.0.0.1")
    serve(
        port=args.port,
        access_token=args.access_token,
        activity_seconds=args.activity_seconds,
        rate_per_second=args.rate,
        contacts=args.contacts,
    )
    return 0


def _shell(settings: Settings) -> int:
    from bot.shell import run_shell

    return run_shell(settings, sys.stdin, sys.stdout)


def _db_upgrade(settings: Settings) -> int:
    from bot.store import Store

    refuse_in_memory(settings.database_url)
    Store(settings.database_url).upgrade()
    print(f"database schema is up to date ({_redacted(settings.database_url)})")
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The shell is a conversation: only warnings may interrupt it.
    level = logging.WARNING if args.command == "shell" else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "sandbox":
            return _sandbox(args)
        settings = load_settings()
        if args.command == "serve":
            return _serve(settings, args.port)
        if args.command == "poll":
            return _poll(settings)
        if args.command == "shell":
            return _shell(settings)
        return _db_upgrade(settings)
    except (SettingsError, DatabaseUnusable) as exc:
        print(f"cctag: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
