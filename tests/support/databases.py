"""The databases the tests run on: SQLite always, PostgreSQL when it answers (always under CI)."""

from __future__ import annotations

import os

import pytest

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
