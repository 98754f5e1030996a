"""Fixtures the whole suite shares: the databases, the sandbox, the bot over signed HTTP, and
the connect harness. Their helpers live in tests/support/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.devkit.sandbox.server import SandboxServer
from bot.store import Store
from tests.support.databases import require_postgres
from tests.support.harness import Harness, harness
from tests.support.slack import Bot, big_bot_on, bot_over

# Every sandbox the suite starts (in this process or as a subprocess) holds its answers to the
# published contract; `answers_keep_to_the_contract` fails the test that saw one break it.
os.environ["CCTAG_SANDBOX_CHECK_ANSWERS"] = "1"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """Each database-backed test runs on SQLite and on PostgreSQL (a fresh schema each time)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/cctag.db"
        return
    url = require_postgres()
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'create schema "{schema}"')
    try:
        # No commit waits for PostgreSQL's log to reach the disk: a test's schema outlives no crash.
        yield f"{url}?options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'drop schema "{schema}" cascade')


@pytest.fixture(autouse=True)
def answers_keep_to_the_contract() -> Iterator[None]:
    from bot.devkit.sandbox.schema import ANSWER_PROBLEMS

    ANSWER_PROBLEMS.drain()
    yield
    problems = ANSWER_PROBLEMS.drain()
    assert not problems, "the sandbox answered against the contract:\n" + "\n".join(problems)


@pytest.fixture(autouse=True)
def logging_left_as_found() -> Iterator[None]:
    """`cli.main` run in-process configures the root logger for a process: its stderr handler
    (pytest's captured stream, closed after the test) and its redacting filter, which turns a
    record's exc_info into text, would reach every later test of the worker."""
    import logging
    import sys
    import threading

    def ours(handlers: list[logging.Handler]) -> list[logging.Handler]:
        # pytest adds and removes its own capturing handlers around each phase.
        return [h for h in handlers if type(h).__module__ != "_pytest.logging"]

    root = logging.getLogger()
    handlers, level = ours(root.handlers), root.level
    hooks = sys.excepthook, threading.excepthook
    yield
    for handler in ours(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks
    logging.captureWarnings(False)


@pytest.fixture
def sandbox() -> Iterator[object]:
    """A fresh Constant Contact sandbox over real HTTP on 127.0.0.1, with fast activities."""
    with SandboxServer(activity_seconds=0.3, rate_per_second=50.0) as server:
        yield server


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the head revision, made once: each bot starts from a copy of it."""
    path = tmp_path_factory.mktemp("migrated") / "cctag.db"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    store.close()
    return path


@pytest.fixture
def bot(sandbox: SandboxServer, tmp_path: Path, migrated_sqlite: Path) -> Iterator[Bot]:
    """The real bolt app over signed HTTP, FakeSlack and the sandbox behind it (SQLite)."""
    shutil.copyfile(migrated_sqlite, tmp_path / "cctag.db")
    store = Store(f"sqlite:///{tmp_path}/cctag.db")
    store.upgrade()
    with bot_over(sandbox, store, rate_per_second=40.0) as served:
        yield served
    store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def big_bot(database_url: str, clock: FakeClock) -> Iterator[Bot]:
    yield from big_bot_on(database_url, clock, contacts=1500)


@pytest.fixture
def h(database_url: str) -> Iterator[Harness]:
    """The connect harness. The sandbox shares our FakeClock: its 1-per-second token endpoint
    sees our gate's waits."""
    clock = FakeClock()
    with (
        SandboxServer(activity_seconds=0.3, rate_per_second=50.0, clock=clock) as sandbox,
        harness(sandbox, database_url, clock) as running,
    ):
        yield running
