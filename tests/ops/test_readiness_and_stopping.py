"""Readiness on real databases, and the work pool's drain with a deadline."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from bot.devkit.threaded_server import free_port
from bot.ops.readiness import not_ready_because
from bot.ops.stopping import DrainingPool, ack_grace
from bot.store import Store


def test_ready_only_at_the_schema_head(database_url: str) -> None:
    store = Store(database_url)
    try:
        assert "cctag db upgrade" in (not_ready_because(store) or "")
        store.upgrade()
        assert not_ready_because(store) is None
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        assert "is at 0001, not " in (not_ready_because(store) or "")
    finally:
        store.close()


def test_not_ready_with_the_database_away_says_where_without_the_password() -> None:
    store = Store(f"postgresql://cctag:pw-not-shown@127.0.0.1:{free_port()}/cctag")
    try:
        reason = not_ready_because(store) or ""
    finally:
        store.close()
    assert reason.startswith("cannot reach PostgreSQL at 127.0.0.1:")
    assert "pw-not-shown" not in reason


def test_not_ready_when_sqlite_cannot_open(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/missing/folder/cctag.db")
    try:
        assert "cannot open the SQLite database" in (not_ready_because(store) or "")
    finally:
        store.close()


def test_the_pool_drains_what_it_holds_and_any_work_it_gives_in_turn() -> None:
    pool = DrainingPool(2)
    release = threading.Event()
    done: list[str] = []

    def second() -> None:
        done.append("second")

    def first() -> None:
        release.wait(10)
        done.append("first")
        pool.submit(second)  # a launch that hands on more work

    pool.submit(first)
    assert pool.drain(0) == 1  # the time is up: still running
    release.set()
    assert pool.drain(10) == 0
    assert done == ["first", "second"]
    pool.shutdown()


def test_acks_get_a_few_seconds_of_the_stop_and_the_launches_the_rest() -> None:
    assert ack_grace(20) == 5
    assert ack_grace(4) == 2
