"""Shared fixtures: the local Constant Contact sandbox and the databases."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Every sandbox the suite starts (in this process or as a subprocess) holds its answers to the
# published contract; `answers_keep_to_the_contract` fails the test that saw one break it.
os.environ["CCTAG_SANDBOX_CHECK_ANSWERS"] = "1"

POSTGRES_URL = os.environ.get(
    "CCTAG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_reason() -> str | None:
    """None when PostgreSQL answers; otherwise why it cannot be used."""
    try:
        import psycopg

        url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("select 1")
        return None
    except Exception as exc:  # any failure to connect means: not reachable
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}"


_PG_REASON: str | None = None
_PG_CHECKED = False


def require_postgres() -> str:
    """The PostgreSQL URL, or skip with a reason (under CI, fail instead: it must run there)."""
    global _PG_REASON, _PG_CHECKED
    if not _PG_CHECKED:
        _PG_REASON, _PG_CHECKED = postgres_reason(), True
    if _PG_REASON is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {_PG_REASON}")
        pytest.skip(_PG_REASON)
    return POSTGRES_URL


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
        yield f"{url}?options=-csearch_path%3D{schema}"
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


@pytest.fixture
def sandbox() -> Iterator[object]:
    """A fresh Constant Contact sandbox over real HTTP on 127.0.0.1, with fast activities."""
    from bot.devkit.sandbox.server import SandboxServer

    with SandboxServer(activity_seconds=0.3, rate_per_second=50.0) as server:
        yield server
